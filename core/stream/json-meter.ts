/**
 * A usage meter for a JSON (non-streamed) response: keeps a copy of the bytes up to a
 * bound while they pass to the client, parses once at the end and hands the object to a
 * provider's reader. Bodies past the bound are passed on unread.
 */
import { emptyUsage } from '../context.js';
import type { TokenUsage, UsageMeter } from '../types.js';

/** Largest JSON body kept for reading usage. */
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

  constructor(
    private readonly read: JsonUsageReader,
    private readonly shallow?: ShallowUsageReader,
  ) {}

  write(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.size <= JSON_METER_LIMIT) this.chunks.push(chunk);
  }

  end(): void {
    if (this.size === 0 || this.size > JSON_METER_LIMIT) return;
    let body: unknown;
    try {
      const buffer = keptBytes(this.chunks);
      if (this.shallow?.(buffer, this)) return;
      body = JSON.parse(buffer.toString('utf8'));
    } catch {
      return; // not JSON: nothing to count
    } finally {
      this.chunks = [];
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
