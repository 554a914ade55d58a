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

/**
 * Past this a body is left to JSON.parse: its tape would not fit in the scanner's shared
 * memory (about seven times the body), and an instance of its own would cost more than
 * the parse saves.
 */
const MAX_BODY = 1024 * 1024;

/**
 * The body's tape, or `undefined` where the gateway refuses it as JSON (not UTF-8, or not
 * what JSON.parse accepts) or it is too large.
 */
export function readTape(bytes: Buffer): Tape | undefined {
  const len = bytes.length;
  if (len === 0 || len > MAX_BODY || !(isAscii(bytes) || isUtf8(bytes))) return undefined;
  // Valid JSON has at most one value per two bytes (one nesting level per two as well);
  // the scanner refuses a text that needs more.
  const tapeRoom = 8 * ((len >> 1) + 2);
  const stackRoom = 4 * ((len >> 1) + 2);
  const scanner = scannerFor(align(len) + tapeRoom + stackRoom);
  const at = scanner.text.value;
  const end = at + len;
  const tape = align(end);
  const stack = tape + tapeRoom;
  bytes.copy(new Uint8Array(scanner.memory.buffer), at);
  const count = scanner.tape(end, tape, stack, stack + stackRoom);
  if (count < 0) return undefined;
  // Copied out: the scanner's memory is the next body's.
  return { bytes, entries: new Int32Array(scanner.memory.buffer, tape, 2 * count).slice() };
}
