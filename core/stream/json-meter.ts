/**
 * A usage meter for a JSON (non-streamed) response: keeps a copy of the bytes up to a
 * bound while they pass to the client, parses once at the end and hands the object to a
 * provider's reader. A body past the bound keeps only its ends (`json-ends.ts`): the
 * members that open it and the ones that close it, where every provider puts its usage.
 * A body that ends without a usage report the reader could read — cut by the client or
 * the upstream, most often just before its trailing `usage` — says so (`usageFinal`
 * false) and is charged estimates, as a cut stream is (`estimated-usage.ts`).
 */
import { emptyUsage } from '../context.js';
import type { TokenUsage, UsageMeter } from '../types.js';
import { tokensOfBytes } from './estimated-usage.js';
import { JsonEnds } from './json-ends.js';

/** Largest JSON body kept whole for reading usage; a larger one is read from its ends. */
export const JSON_METER_LIMIT = 8 * 1024 * 1024;

/** What a reader fills in: the counts, the model the answer names, an error it carries. */
export interface JsonMeterReading {
  readonly usage: TokenUsage;
  model: string | undefined;
  streamError: string | undefined;
  /**
   * Set (true) by the reader when the body carries the answer's own usage report; left
   * false, the counts are completed with estimates.
   */
  usageFinal: boolean;
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

function firstNonSpace(chunk: Uint8Array): number | undefined {
  for (const c of chunk) if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c;
  return undefined;
}

export class JsonBodyMeter implements UsageMeter, JsonMeterReading {
  readonly usage = emptyUsage();
  model: string | undefined;
  streamError: string | undefined;
  usageFinal = false;
  private chunks: Uint8Array[] = [];
  private size = 0;
  /** Set once the body passed {@link JSON_METER_LIMIT}: what is kept of it from then on. */
  private ends: JsonEnds | undefined = undefined;
  /** The body's first byte other than whitespace, once seen. */
  private opening: number | undefined = undefined;

  constructor(
    private readonly read: JsonUsageReader,
    private readonly shallow?: ShallowUsageReader,
  ) {}

  /** For a body without a report read: its bytes, by the usual figure (the JSON around the text errs high). */
  get estimatedOutputTokens(): number {
    return tokensOfBytes(this.size);
  }

  write(chunk: Uint8Array): void {
    this.size += chunk.length;
    this.opening ??= firstNonSpace(chunk);
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
    // Bytes that cannot begin an answer (an HTML page, a bare string) are no answer cut
    // short: taken as they are, with nothing estimated.
    if (this.opening !== undefined && this.opening !== 0x7b /* { */ && this.opening !== 0x5b /* [ */) this.usageFinal = true;
    const buffer = this.ends ? this.ends.document() : this.size > 0 ? keptBytes(this.chunks) : undefined;
    this.chunks = [];
    this.ends = undefined;
    if (buffer === undefined) return;
    let body: unknown;
    try {
      if (this.shallow?.(buffer, this)) return;
      body = JSON.parse(buffer.toString('utf8'));
    } catch {
      return; // not JSON, or cut: no report to read
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
