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
/** No partial event held (never written to: shared). */
const NONE = Buffer.alloc(0);

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
  private pending: Buffer = NONE;
  constructor(private readonly options: UsageChunkFilterOptions = { dropUsage: true, endCutStream: false }) {}

  /** True right after a line ended: another line end now ends the event. */
  private atLineStart = true;
  private afterCR = false;
  /** Lines of the event so far (blank lines aside): the usual event is one, its data. */
  private lines = 0;

  /** Filter a chunk of upstream bytes; returns the bytes to send now (possibly empty). */
  write(chunk: Uint8Array): Uint8Array {
    const buf = this.pending.length !== 0 ? Buffer.concat([this.pending, chunk]) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const from = this.pending.length;
    let eventStart = 0;
    let out: Buffer[] | undefined;
    let keptUpTo = 0; // end of the run of kept events not yet copied into `out`
    // Line ends are found with indexOf (a native scan), each kind searched for again only
    // once passed: a stream without CRs is searched for one once a write.
    let lf = -2;
    let cr = -2;
    for (let i = from; i < buf.length; ) {
      if (lf !== -1 && lf < i) lf = buf.indexOf(LF, i);
      if (cr !== -1 && cr < i) cr = buf.indexOf(CR, i);
      const lineEnd = lf < 0 ? cr : cr < 0 || lf < cr ? lf : cr;
      if (lineEnd !== i) {
        this.atLineStart = false; // text before the line end, or up to the end of the write
        this.afterCR = false;
      }
      if (lineEnd < 0) break;
      i = lineEnd + 1;
      if (buf[lineEnd] === LF && this.afterCR) {
        this.afterCR = false; // the LF of a CRLF: the CR already ended the line
        continue;
      }
      this.afterCR = buf[lineEnd] === CR;
      if (!this.atLineStart) {
        this.atLineStart = true;
        this.lines++;
        continue;
      }
      // A blank line: the event up to here is complete.
      const oneLine = this.lines === 1;
      this.lines = 0;
      if (this.dropped(buf, eventStart, i, oneLine)) {
        (out ??= []).push(buf.subarray(keptUpTo, eventStart));
        keptUpTo = i;
      }
      eventStart = i;
    }
    this.pending = eventStart === buf.length ? NONE : Buffer.from(buf.subarray(eventStart)); // a copy: `buf` may be the caller's
    if (!out) return eventStart === 0 ? EMPTY : eventStart === buf.length ? buf : buf.subarray(0, eventStart);
    out.push(buf.subarray(keptUpTo, eventStart));
    return Buffer.concat(out);
  }

  /** The upstream body ended: a last event without its blank line goes out unless it is the usage chunk. */
  end(): Uint8Array {
    const rest = this.pending;
    this.pending = NONE;
    const last = rest.length === 0 || this.dropped(rest, 0, rest.length, false) ? EMPTY : rest;
    this.reader.end();
    // Cut: a partial last event is no use to the client, the error chunk is.
    if (this.options.endCutStream && !this.reader.done) return this.reader.streamError === CUT ? CUT_STREAM_ERROR : EMPTY;
    return last;
  }

  /** A meter over what this filter read; core's writes of the filtered bytes are ignored. */
  meter(): UsageMeter {
    return new SourceMeter(this.reader);
  }

  /** Whether the event in `buf` from `start` to `end` is to be dropped; `oneLine`: it has one line (blank lines aside). */
  private dropped(buf: Buffer, start: number, end: number, oneLine: boolean): boolean {
    return this.reader.read(dataOf(buf, start, end, oneLine)) && this.options.dropUsage;
  }
}

const SPACE = 0x20;

function isLineEnd(byte: number): boolean {
  return byte === LF || byte === CR;
}

/** Whether `event` holds `data:` at `at`. */
function dataFieldAt(event: Buffer, at: number): boolean {
  return event[at] === 0x64 && event[at + 1] === 0x61 && event[at + 2] === 0x74 && event[at + 3] === 0x61 && event[at + 4] === 0x3a;
}

/**
 * The data of the event in `buf` from `from` to `to`: its `data:` lines' values joined by
 * line feeds. An event of one line (the framing counted them; blank lines aside) has its
 * value decoded alone, straight from the bytes; any other is decoded and split.
 */
function dataOf(buf: Buffer, from: number, to: number, oneLine: boolean): string {
  if (oneLine) {
    let start = from;
    while (isLineEnd(buf[start])) start++; // a CRLF's LF, left over from the last event
    let end = to;
    while (isLineEnd(buf[end - 1])) end--; // the line ends closing the event
    if (!dataFieldAt(buf, start)) return ''; // a comment, an event name: no data
    return buf.toString('utf8', buf[start + 5] === SPACE ? start + 6 : start + 5, end);
  }
  const data: string[] = [];
  for (const line of buf.toString('utf8', from, to).split(/\r\n|\r|\n/)) {
    if (line.startsWith('data:')) data.push(line.charCodeAt(5) === SPACE ? line.slice(6) : line.slice(5));
  }
  return data.join('\n');
}
