/**
 * A request body's structure as the WebAssembly scanner records it (strings.wat's `tape`):
 * every value's kind and place in the bytes, each object and array with where it ends, so
 * a reader can step over what it does not look at. The scanner checks the whole text as
 * JSON.parse does; a body it refuses (or is unsure of) gets no tape, and its reader the
 * whole shape instead, with the same refusal.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { align, scannerFor } from '../json-scan/scanner.js';

/** A tape entry's kinds (its low three bits). */
export const OBJECT = 0;
export const ARRAY = 1;
export const STRING = 2;
/** A string holding an escape. */
export const ESCAPED_STRING = 3;
export const NUMBER = 4;
export const TRUE = 5;
export const FALSE = 6;
export const NULL = 7;

/**
 * Entry i is `entries[2i]` (the value's offset in `bytes` << 3 | its kind) and
 * `entries[2i + 1]` (an object's or array's next entry after its contents; a string's
 * closing quote; a number's or literal's end).
 */
export interface Tape {
  readonly bytes: Buffer;
  readonly entries: Int32Array;
}

/** The entry after value i and everything inside it (an object's or array's end, else the next). */
export function afterValue(entries: Int32Array, i: number): number {
  return (entries[2 * i] & 7) <= ARRAY ? entries[2 * i + 1] : i + 1;
}

/** The exact text of string entry i that holds escapes, as JSON.parse reads it. */
export function escapedText(bytes: Buffer, entries: Int32Array, i: number): string {
  return JSON.parse(bytes.toString('utf8', entries[2 * i] >> 3, entries[2 * i + 1] + 1)) as string;
}

/** Which of `among` the bytes [from, to) of `bytes` are, or -1: a member name or a string matched without decoding it. */
export function indexOfBytes(bytes: Buffer, from: number, to: number, among: readonly Uint8Array[]): number {
  const length = to - from;
  for (let k = 0; k < among.length; k++) {
    const candidate = among[k];
    if (candidate.length !== length) continue;
    let at = 0;
    while (at < length && candidate[at] === bytes[from + at]) at++;
    if (at === length) return k;
  }
  return -1;
}

/**
 * Past this a body is left to JSON.parse. Up to it the first scan fits the scanner's shared
 * memory (8 MiB; about twice the body, see {@link readTape}).
 */
const MAX_BODY = 4 * 1024 * 1024 - 64 * 1024;

/** Open containers the first scan makes room for. */
const FIRST_DEPTH = 4096;

/** The scanner ran out of the room it was given before it was done (strings.wat's `tape`). */
const OUT_OF_ROOM = -2;

/**
 * The body's tape, or `undefined` where the gateway refuses it as JSON (not UTF-8, or not
 * what JSON.parse accepts) or it is too large.
 *
 * Valid JSON may hold one value per two bytes and nest one level per byte, so room for the
 * most it can need is about seven times the body. A request's JSON has one value per
 * 30–60 bytes and nests a few levels: the first scan gets room for one entry per 8 bytes
 * and 4,096 levels, about twice the body; a denser or deeper body is scanned again with
 * the full room.
 */
export function readTape(bytes: Buffer): Tape | undefined {
  const len = bytes.length;
  if (len === 0 || len > MAX_BODY || !(isAscii(bytes) || isUtf8(bytes))) return undefined;
  const first = scan(bytes, (len >> 3) + 16, FIRST_DEPTH);
  if (first !== OUT_OF_ROOM) return first;
  const full = scan(bytes, (len >> 1) + 2, (len >> 1) + 2);
  return full === OUT_OF_ROOM ? undefined : full;
}

/** One scan with room for `entries` tape entries and `depth` open containers. */
function scan(bytes: Buffer, entries: number, depth: number): Tape | undefined | typeof OUT_OF_ROOM {
  const len = bytes.length;
  const tapeRoom = 8 * entries;
  const stackRoom = 4 * depth;
  const scanner = scannerFor(align(len) + tapeRoom + stackRoom);
  const at = scanner.text.value;
  const end = at + len;
  const tape = align(end);
  const stack = tape + tapeRoom;
  bytes.copy(new Uint8Array(scanner.memory.buffer), at);
  const count = scanner.tape(end, tape, stack, stack + stackRoom);
  if (count === OUT_OF_ROOM) return OUT_OF_ROOM;
  if (count < 0) return undefined;
  // Copied out: the scanner's memory is the next body's.
  return { bytes, entries: new Int32Array(scanner.memory.buffer, tape, 2 * count).slice() };
}
