/**
 * Serialising a body built from a scanned request (the unified endpoint's translations, a
 * validator's rewrite) with the request's long strings copied as the bytes they came in.
 *
 * `JSON.stringify` looks at every character of every string again to escape it (~1 ns a
 * byte on Node 20): for a 100 KB prompt, most of what a translation costs. The scanner
 * (latin1-json.ts) already checked each long string's literal in the body, quotes and
 * escapes included, and that literal is JSON for the very string the tree holds. So each
 * such string found in the new body is stood in for by a short placeholder,
 * `JSON.stringify` writes the rest, and the literal's bytes are copied into place.
 *
 * A placeholder is the lone surrogate U+DE00 and a number, which `JSON.stringify` writes
 * as `"\ude00` and the number. The strings this works on are held as bytes (core's
 * `BYTE_STRINGS`: every character below U+0100) and what translations add is ASCII, so no
 * other string of the body can be written that way; and should one be, the count of
 * placeholders found would not match, and the whole body is serialised the plain way.
 */
import { stringifyJson } from '../json-write.js';

const EMPTY = Buffer.alloc(0);
const NO_SPANS = new Int32Array(0);

/** The long strings a scan took from a body, each with where its literal lies in the body. */
export class StringLiterals {
  /** Where the last lookup matched: translations keep the request's order, so the next is likely after it. */
  private cursor = 0;

  /**
   * @param source the body's bytes
   * @param strings the strings, as the tree holds them
   * @param spans for each string, its literal's opening and closing quotes' offsets in `source`
   */
  constructor(
    private source: Buffer,
    private strings: readonly string[],
    private spans: Int32Array,
  ) {}

  /**
   * Let go of the body and its strings (core does once the request has gone upstream): a
   * serialiser kept past that — in a slot, a closure — must not hold a large prompt for a
   * long stream. Nothing is found from then on, so everything goes the plain way.
   */
  release(): void {
    this.source = EMPTY;
    this.strings = [];
    this.spans = NO_SPANS;
  }

  /** The index of `s` among the strings, or -1. The same string object matches at once. */
  indexOf(s: string): number {
    const n = this.strings.length;
    for (let k = 0, i = this.cursor; k < n; k++, i = i + 1 === n ? 0 : i + 1) {
      if (this.strings[i] === s) {
        this.cursor = i + 1 === n ? 0 : i + 1;
        return i;
      }
    }
    return -1;
  }

  /** The literal's size in bytes, quotes included. */
  sizeOf(i: number): number {
    return this.spans[2 * i + 1] - this.spans[2 * i] + 1;
  }

  /** Copy the literal into `out` at `at`; returns the offset after it. */
  copyInto(i: number, out: Buffer, at: number): number {
    return at + this.source.copy(out, at, this.spans[2 * i], this.spans[2 * i + 1] + 1);
  }
}

/** A string shorter than this is left to JSON.stringify: the scanner takes none (its MIN_LONG). */
const MIN_LITERAL = 512;
const PLACEHOLDER = '\ude00';
/** How JSON.stringify writes a placeholder's opening: quote, then the escaped surrogate. */
const WRITTEN = '"\\ude00';
const ZERO = 0x30;

/** A place in the body that held a long string, to put it back. */
type Stand = [container: Record<string, unknown> | unknown[], key: string | number, original: string];

/**
 * `Buffer.from(JSON.stringify(value), 'latin1')` (the value's strings held as bytes), with
 * each of `literals`' strings copied from its literal. `value` is changed while this runs
 * and left as it was.
 */
export function serializeWithLiterals(value: unknown, literals: StringLiterals): Buffer {
  const stands: Stand[] = [];
  const which: number[] = [];
  let json: string;
  try {
    standIn(value, literals, stands, which);
    json = stringifyJson(value);
  } finally {
    for (const [container, key, original] of stands) (container as Record<string | number, unknown>)[key] = original;
  }
  if (stands.length === 0) return Buffer.from(json, 'latin1');
  // Placeholders not as stood in (see the module comment): the value, put back, the plain way.
  return assemble(json, literals, which) ?? Buffer.from(stringifyJson(value), 'latin1');
}

/**
 * Replace each long string of `value` that `literals` holds by a placeholder, noting where
 * (`stands`) and which literal (`which`, by placeholder number). Iterative: JSON may nest
 * deeper than the stack. A top-level string is left alone (a body is an object).
 */
function standIn(value: unknown, literals: StringLiterals, stands: Stand[], which: number[]): void {
  const work: unknown[] = [value];
  while (work.length > 0) {
    const node = work.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) visit(node, i, node[i]);
    } else if (node !== null && typeof node === 'object') {
      const object = node as Record<string, unknown>;
      for (const key of Object.keys(object)) visit(object, key, object[key]);
    }
  }

  function visit(container: Record<string, unknown> | unknown[], key: string | number, child: unknown): void {
    if (typeof child === 'string') {
      if (child.length < MIN_LITERAL) return;
      const i = literals.indexOf(child);
      if (i < 0) return;
      (container as Record<string | number, unknown>)[key] = PLACEHOLDER + which.length;
      stands.push([container, key, child]);
      which.push(i);
    } else if (child !== null && typeof child === 'object') work.push(child);
  }
}

/**
 * The bytes of `json` with each placeholder written as its literal, or `undefined` if the
 * placeholders found are not exactly those stood in.
 */
function assemble(json: string, literals: StringLiterals, which: number[]): Buffer | undefined {
  // Each placeholder: its offset in json, the offset after its closing quote, its literal.
  const found: number[] = [];
  const seen = new Uint8Array(which.length);
  let size = json.length;
  for (let at = json.indexOf(WRITTEN); at >= 0; at = json.indexOf(WRITTEN, at + WRITTEN.length)) {
    const digits = at + WRITTEN.length;
    const close = json.indexOf('"', digits);
    const n = placeholderNumber(json, digits, close);
    if (n < 0 || n >= which.length || seen[n] === 1) return undefined;
    seen[n] = 1;
    found.push(at, close + 1, which[n]);
    size += literals.sizeOf(which[n]) - (close + 1 - at);
  }
  if (found.length !== 3 * which.length) return undefined;

  const out = Buffer.allocUnsafe(size);
  let written = 0;
  let from = 0;
  for (let k = 0; k < found.length; k += 3) {
    written += out.write(json.slice(from, found[k]), written, 'latin1');
    written = literals.copyInto(found[k + 2], out, written);
    from = found[k + 1];
  }
  out.write(json.slice(from), written, 'latin1');
  return out;
}

/** The decimal number in json[from, to), or -1 if that is not one. */
function placeholderNumber(json: string, from: number, to: number): number {
  if (to <= from || to - from > 9) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = json.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}
