/**
 * Incremental Server-Sent Events decoder (WHATWG HTML §9.2.6) that reads beside a byte
 * flow: it is fed the chunks the client also gets and never holds more than one partial
 * event. Events may be split anywhere, mid-line and mid-UTF-8 sequence included.
 */
import { Utf8Chunks } from './utf8-chunks.js';

export type SseListener = (event: string, data: string) => void;

export interface SseDecoderOptions {
  /**
   * Names of events the listener ignores. A chunk made only of whole events with these
   * names (the usual one-frame chunk of a token delta) is then passed over unread — no
   * UTF-8 decoding, no splitting; anything less certain is decoded and delivered as usual,
   * so the listener must still ignore them itself.
   */
  skip?: readonly string[];
  /**
   * How many names of `skip`, from its first, to count the skipped events of (their number
   * and bytes: what a meter that skips deltas still knows of them). Default none.
   */
  countSkipped?: number;
  /** What measures each counted skipped event, summed in `skippedMeasure` (a delta's text length, say). */
  measureSkipped?: SkippedEventMeasurer;
}

export interface SkippedEventMeasurer {
  /** `chunk[start, end)` is one whole skipped event, `name` its index in `skip`; called only for chunks skipped whole. */
  measureSkipped(chunk: Uint8Array, start: number, end: number, name: number): number;
}

const NO_SKIP: readonly Uint8Array[] = [];
/** Encoded once per skip list: a meter makes a decoder per stream with the same list. */
const encodedSkips = new WeakMap<readonly string[], readonly Uint8Array[]>();

/** `event: NAME\n` as bytes, per name of `skip`. */
function skipLinesOf(skip: readonly string[]): readonly Uint8Array[] {
  let lines = encodedSkips.get(skip);
  if (!lines) encodedSkips.set(skip, (lines = skip.map((name) => Buffer.from(`event: ${name}\n`, 'latin1'))));
  return lines;
}

export class SseDecoder {
  private readonly text = new Utf8Chunks();
  private line = '';
  private event = '';
  private data: string[] = [];
  private sawCR = false;
  /** The last chunk ended with a whole event (so no partial line or UTF-8 sequence waits). */
  private atEventBoundary = true;
  /** `event: NAME\n` as bytes, per skippable name. */
  private readonly skipLines: readonly Uint8Array[];
  /** The skipped events of the counted names (`countSkipped`), and their bytes whole (`event:` line to blank line). */
  skippedEvents = 0;
  skippedBytes = 0;
  /** The sum of `measureSkipped` over the skipped events of the counted names. */
  skippedMeasure = 0;
  private readonly countedNames: number;
  private readonly measurer: SkippedEventMeasurer | undefined;
  /** Which skip name {@link skipLineAt} matched last. */
  private matched = 0;

  constructor(
    private readonly onEvent: SseListener,
    options: SseDecoderOptions = {},
  ) {
    this.skipLines = options.skip ? skipLinesOf(options.skip) : NO_SKIP;
    this.countedNames = options.countSkipped ?? 0;
    this.measurer = options.measureSkipped;
  }

  /** Nothing held: every chunk so far ended with a whole event (no partial line, event or UTF-8 sequence). */
  get idle(): boolean {
    return this.atEventBoundary;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.atEventBoundary && this.skipLines.length > 0 && this.onlySkippable(chunk)) return;
    this.feed(this.text.decode(chunk));
    // Ending in LF, no UTF-8 sequence can be pending; nothing held means the event ended.
    this.atEventBoundary = chunk[chunk.length - 1] === 10 && this.line === '' && this.event === '' && this.data.length === 0;
  }

  /**
   * Whether `chunk` is whole events only, each opening with one of the skippable
   * `event:` lines, with no CR (the general path handles CRLF) and no second `event` line
   * (the last one would name the event).
   */
  private onlySkippable(chunk: Uint8Array): boolean {
    const n = chunk.length;
    if (n < 2 || chunk[n - 1] !== 10 || chunk[n - 2] !== 10) return false;
    // A chunk that does not open with a skippable event (a stream's opening or closing one) leaves here,
    // before the scan for CR. Both searches are native, as the line feeds below: a JavaScript
    // loop over a delta's ~120 bytes took ~3× as long (~160 ns against ~50; deltas are most frames).
    let nameEnd = this.skipLineAt(chunk, 0);
    if (nameEnd < 0 || chunk.indexOf(13) >= 0) return false;
    let events = 0;
    let bytes = 0;
    let measured = 0;
    let at = 0;
    for (;;) {
      const counted = this.matched < this.countedNames;
      // From the event line's own LF, line by line: a blank line ends the event (the chunk
      // ends with one, so this ends).
      let i = nameEnd - 1;
      for (;;) {
        i = chunk.indexOf(10, i);
        const next = chunk[i + 1];
        if (next === 10) break;
        if (next === 0x65 /* e: another event line, maybe */) return false;
        i++;
      }
      if (counted) {
        events++;
        bytes += i + 2 - at;
        if (this.measurer) measured += this.measurer.measureSkipped(chunk, at, i + 2, this.matched);
      }
      at = i + 2;
      if (at >= n) break;
      nameEnd = this.skipLineAt(chunk, at);
      if (nameEnd < 0) return false;
    }
    // Counted only now: a chunk that is not all skippable is decoded, and its events delivered.
    this.skippedEvents += events;
    this.skippedBytes += bytes;
    this.skippedMeasure += measured;
    return true;
  }

  /** Where the skippable `event:` line at `at` ends, or -1. */
  private skipLineAt(chunk: Uint8Array, at: number): number {
    const lines = this.skipLines;
    outer: for (let m = 0; m < lines.length; m++) {
      const line = lines[m];
      if (at + line.length > chunk.length) continue;
      for (let k = 0; k < line.length; k++) if (chunk[at + k] !== line[k]) continue outer;
      this.matched = m;
      return at + line.length;
    }
    return -1;
  }

  /** Flush a final event that lacked its blank line (a truncated stream is still read). */
  end(): void {
    this.feed(this.text.end());
    if (this.line !== '') this.takeLine(this.line);
    this.line = '';
    this.dispatch();
  }

  private feed(s: string): void {
    // The usual stream ends its lines with \n alone: find them natively, not char by char.
    if (s.indexOf('\r') < 0) return this.feedLf(s);
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 10 /* \n */) {
        if (this.sawCR && i === start) {
          // \r\n split: the \r already ended the line
          this.sawCR = false;
          start = i + 1;
          continue;
        }
        this.takeLine(this.line + s.slice(start, i));
        this.line = '';
        start = i + 1;
        this.sawCR = false;
      } else if (c === 13 /* \r */) {
        this.takeLine(this.line + s.slice(start, i));
        this.line = '';
        start = i + 1;
        this.sawCR = true;
        if (s.charCodeAt(i + 1) === 10) {
          i++;
          start = i + 1;
          this.sawCR = false;
        }
      } else {
        this.sawCR = false;
      }
    }
    if (start < s.length) this.line += s.slice(start);
  }

  private feedLf(s: string): void {
    let start = 0;
    if (this.sawCR && s.length > 0) {
      // The \r that ended the last chunk's line, and this \n, are one line break.
      if (s.charCodeAt(0) === 10) start = 1;
      this.sawCR = false;
    }
    if (this.line === '' && this.event === '' && this.data.length === 0) start = this.wholeEvents(s, start);
    for (let nl = s.indexOf('\n', start); nl >= 0; nl = s.indexOf('\n', start)) {
      this.takeLine(this.line + s.slice(start, nl));
      this.line = '';
      start = nl + 1;
    }
    if (start < s.length) this.line += s.slice(start);
  }

  /**
   * Dispatch the complete events at `start` that have the usual shape — `event: NAME` then
   * one `data: …` line, or the `data: …` line alone — without taking them apart line by
   * line; returns where the first other one (or a partial one) begins, for the general path.
   */
  private wholeEvents(s: string, start: number): number {
    for (let end = s.indexOf('\n\n', start); end >= 0; end = s.indexOf('\n\n', start)) {
      let event = 'message';
      let dataAt = start;
      if (s.startsWith('event: ', start)) {
        const nl = s.indexOf('\n', start);
        event = s.slice(start + 7, nl) || 'message';
        dataAt = nl + 1;
      }
      if (!s.startsWith('data: ', dataAt) || s.indexOf('\n', dataAt) !== end) return start;
      this.onEvent(event, s.slice(dataAt + 6, end));
      start = end + 2;
    }
    return start;
  }

  private takeLine(line: string): void {
    if (line === '') return this.dispatch();
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }

  private dispatch(): void {
    if (this.data.length === 0 && this.event === '') return;
    const event = this.event || 'message';
    const data = this.data.join('\n');
    this.event = '';
    this.data = [];
    this.onEvent(event, data);
  }
}
