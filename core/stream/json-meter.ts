/**
 * A usage meter for a JSON (non-streamed) response: keeps a copy of the bytes up to a
 * bound while they pass to the client, parses once at the end and hands the object to a
 * provider's reader. A body past the bound keeps only its ends (`json-ends.ts`): the
 * members that open it and the ones that close it, where every provider puts its usage.
 */
import { emptyUsage } from '../context.js';
import type { TokenUsage, UsageMeter } from '../types.js';
import { JsonEnds } from './json-ends.js';

/** Largest JSON body kept whole for reading usage; a larger one is read from its ends. */
export const JSON_METER_LIMIT = 8 * 1024 * 1024;

/** What a reader fills in: the counts, the model the answer names, an error it carries. */
export interface JsonMeterReading {
  readonly usage: TokenUsage;
  model: string | undefined;
  streamError: string | undefined;
}

/** Reads usage (and the served model) out of a parsed response body. */
export type JsonUsageReader = (body: unknown, into: JsonMeterReading) => void;

/**
 * Reads the same out of the body's bytes without decoding or parsing them whole (see
 * `json-shallow.ts`); returns false, having written nothing, when it cannot tell — the
 * body is parsed then.
 */
export type ShallowUsageReader = (bytes: Buffer, into: JsonMeterReading) => boolean;

/** The chunks a meter kept, as one Buffer (the one chunk itself when there is only one). */
function keptBytes(chunks: readonly Uint8Array[]): Buffer {
  if (chunks.length !== 1) return Buffer.concat(chunks);
  const only = chunks[0];
  return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
}

export class JsonBodyMeter implements UsageMeter, JsonMeterReading {
  readonly usage = emptyUsage();
  model: string | undefined;
  streamError: string | undefined;
  private chunks: Uint8Array[] = [];
  private size = 0;
  /** Set once the body passed {@link JSON_METER_LIMIT}: what is kept of it from then on. */
  private ends: JsonEnds | undefined = undefined;

  constructor(
    private readonly read: JsonUsageReader,
    private readonly shallow?: ShallowUsageReader,
  ) {}

  write(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.ends) return this.ends.push(chunk);
    this.chunks.push(chunk);
    if (this.size <= JSON_METER_LIMIT) return;
    // Too large to keep whole (logprobs or n > 1 reach this at a few thousand tokens): the
    // ends are kept, the bytes so far read once for them and let go.
    this.ends = new JsonEnds();
    for (const kept of this.chunks) this.ends.push(kept);
    this.chunks = [];
  }

  end(): void {
    const buffer = this.ends ? this.ends.document() : this.size > 0 ? keptBytes(this.chunks) : undefined;
    this.chunks = [];
    this.ends = undefined;
    if (buffer === undefined) return;
    let body: unknown;
    try {
      if (this.shallow?.(buffer, this)) return;
      body = JSON.parse(buffer.toString('utf8'));
    } catch {
      return; // not JSON: nothing to count
    }
    this.read(body, this);
  }
}

/** The meter for a response by its content type: SSE, JSON, or none. */
export function meterByContentType(contentType: string | string[] | undefined, stream: () => UsageMeter, json: () => UsageMeter): UsageMeter | undefined {
  const ct = String(contentType ?? '');
  if (ct.startsWith('text/event-stream')) return stream();
  if (ct.includes('json')) return json();
  return undefined;
}
