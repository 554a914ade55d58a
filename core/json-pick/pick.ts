/**
 * `ctx.jsonPick(reads)` from a body's tape: only the values `reads` looks at are built
 * (see reads.ts for the contract); everything else is stepped over by the tape's ends,
 * never decoded or allocated. Strings are in the shape's form (`jsonShape()`'s): a
 * string's UTF-8 bytes one character per byte, read straight from the body.
 */
import { BYTE_STRINGS } from '../json-body.js';
import { TYPE_ONLY, type JsonReads } from './reads.js';
import { afterValue, ARRAY, ESCAPED_STRING, escapedText, FALSE, indexOfBytes, NULL, NUMBER, OBJECT, STRING, TRUE, type Tape } from './tape.js';

/** Reads, compiled once: member names in the shape's form, each with its bytes to match. */
interface Compiled {
  readonly text: boolean;
  readonly items: Compiled | undefined;
  /** Items read by `items` from the end; -1 for all. */
  readonly lastItems: number;
  readonly otherMembers: Compiled | undefined;
  readonly names: readonly string[];
  readonly nameBytes: readonly Buffer[];
  readonly members: readonly Compiled[];
}

const compiledReads = new WeakMap<JsonReads, Compiled>();

/**
 * Everything: the whole value is read as the shape holds it (an object or array by
 * {@link Picker.whole}, which needs no reads for what it holds).
 */
const WHOLE_COMPILED: Compiled = { text: true, items: undefined, lastItems: -1, otherMembers: undefined, names: [], nameBytes: [], members: [] };

function compile(reads: JsonReads): Compiled {
  if (reads.whole) return WHOLE_COMPILED;
  let compiled = compiledReads.get(reads);
  if (!compiled) {
    const entries = Object.entries(reads.members ?? {});
    const names = entries.map(([name]) => BYTE_STRINGS.of(name));
    compiled = {
      text: reads.text === true,
      items: reads.items && compile(reads.items),
      lastItems: reads.items && reads.lastItems !== undefined ? Math.max(0, Math.floor(reads.lastItems)) : -1,
      otherMembers: reads.otherMembers && compile(reads.otherMembers),
      names,
      nameBytes: names.map((name) => Buffer.from(name, 'latin1')),
      members: entries.map(([, member]) => compile(member)),
    };
    compiledReads.set(reads, compiled);
  }
  return compiled;
}

/** A value's type alone. */
const TYPE_ONLY_COMPILED = compile(TYPE_ONLY);

/** The value of the tape's first entry (the body), as `reads` looks at it. */
export function pick(tape: Tape, reads: JsonReads): unknown {
  return new Picker(tape).value(0, compile(reads));
}

class Picker {
  private readonly bytes: Buffer;
  private readonly entries: Int32Array;

  constructor(tape: Tape) {
    this.bytes = tape.bytes;
    this.entries = tape.entries;
  }

  value(i: number, reads: Compiled): unknown {
    const head = this.entries[2 * i];
    if (reads === WHOLE_COMPILED && (head & 7) <= ARRAY) return this.whole(i);
    switch (head & 7) {
      case OBJECT:
        return this.object(i, reads);
      case ARRAY:
        return reads.items ? this.array(i, reads.items, reads.lastItems) : [];
      case STRING:
        return reads.text ? this.plain(i) : '';
      case ESCAPED_STRING:
        return reads.text ? this.escaped(i) : '';
      case NUMBER:
        return this.number(head >> 3, this.entries[2 * i + 1]);
      case TRUE:
        return true;
      case FALSE:
        return false;
      case NULL:
      default:
        return null;
    }
  }

  /** The entry after value i and everything inside it. */
  private next(i: number): number {
    return afterValue(this.entries, i);
  }

  private object(i: number, reads: Compiled): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (reads.names.length === 0 && !reads.otherMembers) return out;
    const end = this.entries[2 * i + 1];
    for (let name = i + 1; name < end; ) {
      const value = name + 1;
      const known = this.memberIndex(name, reads);
      if (known >= 0) define(out, reads.names[known], this.value(value, reads.members[known]));
      else if (reads.otherMembers) define(out, this.stringAt(name), this.value(value, reads.otherMembers));
      name = this.next(value);
    }
    return out;
  }

  private array(i: number, items: Compiled, lastItems: number): unknown[] {
    const out: unknown[] = [];
    const end = this.entries[2 * i + 1];
    let item = i + 1;
    if (lastItems >= 0) {
      let count = 0;
      for (let k = item; k < end; k = this.next(k)) count++;
      for (; count > lastItems; count--, item = this.next(item)) out.push(this.value(item, TYPE_ONLY_COMPILED));
    }
    for (; item < end; item = this.next(item)) out.push(this.value(item, items));
    return out;
  }

  /**
   * Object or array i read whole, without recursion: a client's JSON may nest deeper than
   * the stack (JSON.parse takes any depth). Entries come in the text's order, so each is
   * placed in the innermost container still open.
   */
  private whole(i: number): unknown {
    const root: Record<string, unknown> | unknown[] = (this.entries[2 * i] & 7) === OBJECT ? {} : [];
    let into = root;
    let end = this.entries[2 * i + 1];
    const outer: Array<Record<string, unknown> | unknown[]> = [];
    const outerEnds: number[] = [];
    for (let k = i + 1; ; ) {
      while (k === end) {
        if (outer.length === 0) return root;
        into = outer.pop()!;
        end = outerEnds.pop()!;
      }
      const name = Array.isArray(into) ? undefined : this.stringAt(k++);
      const kind = this.entries[2 * k] & 7;
      const value = kind === OBJECT ? {} : kind === ARRAY ? [] : this.value(k, WHOLE_COMPILED);
      if (name === undefined) (into as unknown[]).push(value);
      else define(into as Record<string, unknown>, name, value);
      if (kind <= ARRAY) {
        outer.push(into);
        outerEnds.push(end);
        into = value as Record<string, unknown> | unknown[];
        end = this.entries[2 * k + 1];
      }
      k++;
    }
  }

  /** Which of `reads`' names the member name at entry i is, or -1. */
  private memberIndex(i: number, reads: Compiled): number {
    const names = reads.names;
    if (names.length === 0) return -1;
    const head = this.entries[2 * i];
    if ((head & 7) === ESCAPED_STRING) return names.indexOf(this.escaped(i));
    return indexOfBytes(this.bytes, (head >> 3) + 1, this.entries[2 * i + 1], reads.nameBytes);
  }

  private stringAt(i: number): string {
    return (this.entries[2 * i] & 7) === ESCAPED_STRING ? this.escaped(i) : this.plain(i);
  }

  /** A string without escapes: its bytes one character per byte, the short ones shared. */
  private plain(i: number): string {
    const from = (this.entries[2 * i] >> 3) + 1;
    const to = this.entries[2 * i + 1];
    return to - from <= SHORT ? shortString(this.bytes, from, to) : this.bytes.toString('latin1', from, to);
  }

  /** A number as JSON.parse reads it; small integers (most of them) without a string. */
  private number(from: number, to: number): number {
    const bytes = this.bytes;
    if (to - from <= 9) {
      let n = 0;
      let at = from;
      while (at < to && bytes[at] >= 0x30 && bytes[at] <= 0x39) n = n * 10 + bytes[at++] - 0x30;
      if (at === to) return n;
    }
    return Number(bytes.toString('latin1', from, to));
  }

  /** A string holding escapes: its exact text, then in the shape's form (a lone surrogate as U+FFFD's bytes). */
  private escaped(i: number): string {
    return BYTE_STRINGS.of(escapedText(this.bytes, this.entries, i));
  }
}

/** Strings up to this long (role names, block types) are kept in {@link interned}. */
const SHORT = 24;
/** Short strings seen, by a hash of their bytes: a request's roles and block types repeat. */
const interned: string[] = new Array<string>(512).fill('');

/** The string of bytes [from, to), read one character per byte; the same string each time. */
function shortString(bytes: Buffer, from: number, to: number): string {
  // Length, the middle byte and the last tell a request's few short strings apart well enough.
  const length = to - from;
  const slot = length === 0 ? 0 : (length * 61 + bytes[to - 1] * 7 + bytes[from + (length >> 1)]) & 511;
  const known = interned[slot];
  if (known.length === to - from) {
    let k = 0;
    while (k < known.length && known.charCodeAt(k) === bytes[from + k]) k++;
    if (k === known.length) return known;
  }
  return (interned[slot] = bytes.toString('latin1', from, to));
}

/** Defined, not assigned: a member named __proto__ is data, as JSON.parse makes it. */
function define(object: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(object, name, { value, writable: true, enumerable: true, configurable: true });
  else object[name] = value;
}
