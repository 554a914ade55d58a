/**
 * Removes the usage-only chunk from a stream whose client did not ask for it (the gateway
 * did, see `rewrite.ts`). An SSE pass-through: bytes are framed into events at blank
 * lines, each complete event goes out byte for byte as soon as its last byte arrives,
 * and only the one event whose data is `{"choices": [], "usage": {…}}` is dropped. At most
 * one partial event is held. Also the stream's usage meter, since it reads every event.
 */
import { SourceMeter, type UsageMeter } from '../../core/index.js';
import { ChunkReader, CUT } from './usage.js';

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

export interface UsageChunkFilterOptions {
  /** Drop the usage-only chunk (the gateway asked for it, the client did not). */
  dropUsage: boolean;
  /**
   * End a stream cut before `[DONE]` with an OpenAI error chunk, as the unified endpoint's
   * translations do, so the client's SDK raises rather than taking part of an answer for
   * the whole (a pass-through leaves the upstream's bytes as they are).
   */
  endCutStream: boolean;
}

/** What the client's SDK reads at the end of a stream that was cut. */
const CUT_STREAM_ERROR = Buffer.from(`data: ${JSON.stringify({ error: { message: 'Upstream stream ended before the response was complete', type: 'server_error', param: null, code: null } })}\n\n`);

export class UsageChunkFilter {
  private readonly reader = new ChunkReader();
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly options: UsageChunkFilterOptions = { dropUsage: true, endCutStream: false }) {}

  /** True right after a line ended: another line end now ends the event. */
  private atLineStart = true;
  private afterCR = false;

  /** Filter a chunk of upstream bytes; returns the bytes to send now (possibly empty). */
  write(chunk: Uint8Array): Uint8Array {
    const buf = this.pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([this.pending, chunk]);
    const from = this.pending.length;
    let eventStart = 0;
    let out: Buffer[] | undefined;
    let keptUpTo = 0; // end of the run of kept events not yet copied into `out`
    for (let i = from; i < buf.length; i++) {
      const b = buf[i];
      if (b === LF && this.afterCR) {
        this.afterCR = false; // the LF of a CRLF: the CR already ended the line
        continue;
      }
      if (b !== LF && b !== CR) {
        this.atLineStart = false;
        this.afterCR = false;
        continue;
      }
      this.afterCR = b === CR;
      if (!this.atLineStart) {
        this.atLineStart = true;
        continue;
      }
      // A blank line: the event [eventStart, i] is complete.
      const end = i + 1;
      if (this.dropped(buf.subarray(eventStart, end))) {
        (out ??= []).push(buf.subarray(keptUpTo, eventStart));
        keptUpTo = end;
      }
      eventStart = end;
    }
    this.pending = Buffer.from(buf.subarray(eventStart)); // a copy: `buf` may be the caller's
    if (!out) return eventStart === 0 ? EMPTY : buf.subarray(0, eventStart);
    out.push(buf.subarray(keptUpTo, eventStart));
    return Buffer.concat(out);
  }

  /** The upstream body ended: a last event without its blank line goes out unless it is the usage chunk. */
  end(): Uint8Array {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    const last = rest.length === 0 || this.dropped(rest) ? EMPTY : rest;
    this.reader.end();
    // Cut: a partial last event is no use to the client, the error chunk is.
    if (this.options.endCutStream && !this.reader.done) return this.reader.streamError === CUT ? CUT_STREAM_ERROR : EMPTY;
    return last;
  }

  /** A meter over what this filter read; core's writes of the filtered bytes are ignored. */
  meter(): UsageMeter {
    return new SourceMeter(this.reader);
  }

  private dropped(event: Buffer): boolean {
    const data: string[] = [];
    for (const line of event.toString('utf8').split(/\r\n|\r|\n/)) {
      if (line.startsWith('data:')) data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
    }
    return this.reader.read(data.join('\n')) && this.options.dropUsage;
  }
}
