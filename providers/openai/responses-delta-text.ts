/**
 * The text of a Responses API delta event (its `"delta":"…"` member), measured without
 * parsing the event: a stream cut before its terminal event is charged that text over four
 * where it is more than a token a delta. Escapes count as written: the estimate errs up.
 * `"delta":"` cannot occur inside a string (its quotes would be escaped), so the first one
 * found is the member's.
 */
import { stringEnd } from './usage.js';

const KEY = '"delta":"';
const KEY_BYTES = Buffer.from(KEY, 'latin1');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Characters of the delta text in one event's data (0: none). */
export function deltaChars(data: string): number {
  const at = data.indexOf(KEY);
  if (at < 0) return 0;
  const start = at + KEY.length;
  const end = stringEnd(data, start);
  return end < 0 ? 0 : end - start;
}

/** Bytes of the delta text of whole events the SSE decoder passes over undecoded; one per stream. */
export class DeltaBytes {
  /** Where the key was in the last event, from its start: a stream's deltas share their envelope's length. */
  private keyAt = 0;

  /** Bytes of the delta text in `chunk[start, end)`, one whole event (0: none). */
  of(chunk: Uint8Array, start: number, end: number): number {
    let key = start + this.keyAt;
    if (key + KEY_BYTES.length > end || !keyAt(chunk, key)) {
      key = -1;
      for (let at = chunk.indexOf(QUOTE, start); at >= 0 && at < end; at = chunk.indexOf(QUOTE, at + 1)) {
        if (keyAt(chunk, at)) {
          key = at;
          break;
        }
      }
      if (key < 0) return 0;
      this.keyAt = key - start;
    }
    const from = key + KEY_BYTES.length;
    let close = chunk.indexOf(QUOTE, from);
    while (close >= 0 && close < end && escapedAt(chunk, close)) close = chunk.indexOf(QUOTE, close + 1);
    return close < 0 || close >= end ? 0 : close - from;
  }
}

/** Whether `"delta":"` is at `at`. */
function keyAt(chunk: Uint8Array, at: number): boolean {
  for (let k = 0; k < KEY_BYTES.length; k++) if (chunk[at + k] !== KEY_BYTES[k]) return false;
  return true;
}

/** Whether the quote at `at` is escaped (an odd run of backslashes before it). */
function escapedAt(bytes: Uint8Array, at: number): boolean {
  let backslashes = 0;
  while (bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}
