/**
 * Reading a few top-level members of a JSON response without parsing all of it: a usage
 * meter wants the served model (near the start) and the token counts (the last member),
 * while the content between them — the bulk of the answer — is only passed on.
 *
 * They read the answer's bytes, not its text: JSON's syntax is all ASCII and no byte of a
 * multi-byte UTF-8 character is ASCII, so the structure is the same, and an answer need not
 * be decoded to be read. Decoding UTF-8 that is not all ASCII costs ~2 ns a byte on Node 20:
 * ~40 µs for a 16 KB answer, to read a few hundred bytes at its two ends.
 *
 * The readers are strict and say "don't know" (undefined) whenever the bytes are not in
 * the shape they recognise — the opening members compact, the last ones compact or
 * pretty-printed, none with escapes where they look; the caller then parses the whole
 * body. Whenever they do answer, the answer is what `JSON.parse` of a valid document
 * (decoded as UTF-8) would give.
 */
import { isAscii } from 'node:buffer';

/**
 * The values of `keys` among the string members the object opens with, up to the first
 * member whose value is neither a plain string nor a number (numbers are passed over:
 * some answers put a timestamp before the model): for `{"id":"m","type":"message","content":[…`
 * and keys `['type', 'model']` that is `['message', undefined]`. Undefined when the bytes
 * do not open with a compact object, a key or value there holds an escape, or a wanted
 * key comes twice in the run (JSON.parse keeps the last) — the caller parses instead.
 * A wanted key repeated after the run, past the content, is not looked for: no provider
 * answer that uses this repeats a key. Keys are plain ASCII (no quote, no backslash).
 */
export function leadingStrings(bytes: Buffer, keys: readonly string[]): (string | undefined)[] | undefined {
  if (bytes[0] !== 0x7b /* { */) return undefined;
  const values = unknowns<string>(keys.length);
  let at = 1;
  for (;;) {
    if (bytes[at] !== 0x22 /* " */) return at === 1 && bytes[1] === 0x7d ? values : undefined;
    const keyEnd = quoteAfter(bytes, at + 1);
    if (keyEnd < 0 || bytes[keyEnd + 1] !== 0x3a /* : */) return undefined;
    // `typ\u0065` is `type` to JSON.parse, and a quote after a backslash may be escaped.
    if (hasBackslash(bytes, at + 1, keyEnd)) return undefined;
    const valueAt = keyEnd + 2;
    const wanted = nameAt(bytes, at + 1, keyEnd, keys);
    if (bytes[valueAt] !== 0x22) {
      // A wanted key seen before with a string: JSON.parse keeps this later value instead.
      if (wanted >= 0 && values[wanted] !== undefined) return undefined;
      // The first member that is neither a string nor a number, or a wanted key that holds
      // no string, ends the run; what came before stands.
      if (wanted >= 0 || !isNumberStart(bytes[valueAt])) return values;
      const numberEnd = new UnescapedReader(bytes, bytes.length).value(valueAt, 0);
      const after = numberEnd < 0 ? undefined : bytes[numberEnd];
      if (after === 0x7d /* } */) return values;
      if (after !== 0x2c /* , */) return undefined;
      at = numberEnd + 1;
      continue;
    }
    const valueEnd = quoteAfter(bytes, valueAt + 1);
    if (valueEnd < 0) return undefined;
    if (wanted >= 0) {
      if (hasBackslash(bytes, valueAt + 1, valueEnd) || values[wanted] !== undefined) return undefined;
      values[wanted] = decodedValue(bytes, valueAt + 1, valueEnd);
    } else if (bytes[valueEnd - 1] === 0x5c) {
      return undefined; // the quote may be escaped: not sure where the value ends
    }
    const next = bytes[valueEnd + 1];
    if (next === 0x7d /* } */) return values;
    if (next !== 0x2c /* , */) return undefined;
    at = valueEnd + 2;
  }
}

/**
 * Values {@link leadingStrings} decoded lately, all plain ASCII: a provider's answers repeat
 * their `type` and `model`, and comparing a few bytes costs less than a decode (a native
 * call and a new string, ~100 ns). Replaced in turn, so a client cycling through models
 * cannot grow it.
 */
const recentValues: string[] = [];
const RECENT_VALUES_MAX = 8;
let recentNext = 0;

/** The text of the bytes [from, to), which hold no backslash: a recent value when they spell one. */
function decodedValue(bytes: Buffer, from: number, to: number): string {
  const length = to - from;
  for (let i = 0; i < recentValues.length; i++) {
    const value = recentValues[i];
    // Byte for character: sound because only ASCII values are kept.
    if (value.length === length && spells(bytes, from, value)) return value;
  }
  const value = bytes.toString('utf8', from, to);
  // Only on a miss: Node's native check, on a view of the value's bytes.
  if (length <= 64 && isAscii(bytes.subarray(from, to))) {
    recentValues[recentNext] = value;
    recentNext = (recentNext + 1) % RECENT_VALUES_MAX;
  }
  return value;
}

/**
 * The value of `key` when it is a member of the top-level object near its end: the last
 * member (`{…,"usage":{"a":1}}` gives `{ a: 1 }`), or followed only by members without
 * escapes (`{…,"usage":{"a":1},"tier":"x","n":2}`, as some APIs end an answer), compact or
 * pretty-printed (whitespace between tokens; the key's colon right after it, as every
 * printer writes it). Undefined otherwise (it is nested, a later member holds an escape,
 * or the bytes are not an object).
 * Why this is safe: `"usage":` with an unescaped opening quote can only be a key, and it
 * is the last such sequence in the bytes; a key nested in an inner object would leave that
 * object's `}` between its value and the final `}`, which neither reading accepts.
 */
export function lastMemberValue(bytes: Buffer, key: string): unknown {
  const span = lastMemberSpan(bytes, key);
  if (!span) return undefined;
  // A value without escapes may have such members after it; anything else must run to the end.
  const reader = new UnescapedReader(bytes, span.end);
  const valueEnd = reader.value(span.start, 0);
  const end = valueEnd > 0 && valueEnd < span.end && onlyMembersFollow(reader, valueEnd, span.end) ? valueEnd : span.end;
  try {
    return JSON.parse(bytes.toString('utf8', span.start, end));
  } catch {
    return undefined;
  }
}

/** `count` undefined slots (a loop: `map` with a closure costs more, per answer). */
function unknowns<T>(count: number): (T | undefined)[] {
  const values: (T | undefined)[] = [];
  for (let i = 0; i < count; i++) values.push(undefined);
  return values;
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The numbers `names` hold in the object that is `key`'s value (a member of the top-level
 * object near its end, as {@link lastMemberValue} finds it), read without `JSON.parse`
 * (which, on a hot path, pays a string-table lookup for every key): for `{…,"usage":{"input_tokens":3,"tier":"x"}}` and names
 * `['input_tokens', 'output_tokens']` that is `[3, undefined]`. A name whose value is not a
 * number (or is absent) reads undefined, as does any name but the last of duplicates.
 * Undefined — parse instead — unless the value is JSON without escapes (compact or
 * pretty-printed) whose wanted numbers are integers written plainly: then the answer is
 * what `JSON.parse` of the same slice would give. Names are plain ASCII (no quote, no backslash).
 */
export function lastMemberNumbers(bytes: Buffer, key: string, names: readonly string[]): (number | undefined)[] | undefined {
  const span = lastMemberSpan(bytes, key);
  if (!span || bytes[span.start] !== 0x7b /* { */) return undefined;
  const values = unknowns<number>(names.length);
  const reader = new UnescapedReader(bytes, span.end);
  let at = reader.skip(span.start + 1);
  if (bytes[at] === 0x7d /* } */) return at + 1 === span.end || onlyMembersFollow(reader, at + 1, span.end) ? values : undefined;
  for (;;) {
    const keyEnd = reader.string(at);
    if (keyEnd < 0) return undefined;
    const colon = reader.skip(keyEnd);
    if (bytes[colon] !== 0x3a /* : */) return undefined;
    // The reader refused any escape, so the key's bytes are its text.
    const wanted = nameAt(bytes, at + 1, keyEnd - 1, names);
    const valueAt = reader.skip(colon + 1);
    const valueEnd = reader.value(valueAt, 0);
    if (valueEnd < 0) return undefined;
    if (wanted >= 0) {
      if (isNumberStart(bytes[valueAt])) {
        const n = plainInteger(bytes, valueAt, valueEnd);
        if (n === undefined) return undefined; // a fraction or an exponent: JSON.parse reads it
        values[wanted] = n;
      } else {
        values[wanted] = undefined; // null, a string, …: not a count (and the last one wins)
      }
    }
    const after = reader.skip(valueEnd);
    const next = bytes[after];
    if (next === 0x7d) return after + 1 === span.end || onlyMembersFollow(reader, after + 1, span.end) ? values : undefined;
    if (next !== 0x2c /* , */) return undefined;
    at = reader.skip(after + 1);
  }
}

/** How far back from the end `"key":` is looked for in JavaScript before Buffer's own search. */
const NEAR_END = 1024;

/**
 * Where `key`'s value begins, and the object's final `}`: [start, end) is the value when
 * it is the last member; the callers look for members after it otherwise. Whitespace may
 * stand between the key and what is around it.
 */
function lastMemberSpan(bytes: Buffer, key: string): { start: number; end: number } | undefined {
  if (bytes[0] !== 0x7b) return undefined;
  let end = bytes.length - 1;
  while (end > 0 && isJsonSpace(bytes[end])) end--;
  if (bytes[end] !== 0x7d) return undefined;
  const at = lastQuotedKey(bytes, key, end);
  if (at <= 0) return undefined;
  let before = at - 1;
  while (before > 0 && isJsonSpace(bytes[before])) before--;
  // Preceded by `,` or the opening `{`: a member, not the tail of an escaped string.
  if (bytes[before] !== 0x2c && before !== 0) return undefined;
  let start = at + key.length + 3;
  while (start < end && isJsonSpace(bytes[start])) start++;
  return { start, end };
}

/** Whether [from, end) is `,"k":v` members, as `reader` reads them, and nothing else. */
function onlyMembersFollow(reader: UnescapedReader, from: number, end: number): boolean {
  const { bytes } = reader;
  let at = reader.skip(from);
  while (at < end) {
    if (bytes[at] !== 0x2c) return false;
    const keyEnd = reader.string(reader.skip(at + 1));
    if (keyEnd < 0) return false;
    const colon = reader.skip(keyEnd);
    if (bytes[colon] !== 0x3a) return false;
    at = reader.value(reader.skip(colon + 1), 0);
    if (at < 0) return false;
    at = reader.skip(at);
  }
  return at === end;
}

function isNumberStart(c: number): boolean {
  return c === 0x2d || (c >= 0x30 && c <= 0x39);
}

/** Where the last `"key":` begins before `end`, or -1. The usage member ends an answer, so it is near. */
function lastQuotedKey(bytes: Buffer, key: string, end: number): number {
  const stop = Math.max(0, end - NEAR_END);
  for (let i = end - key.length - 3; i >= stop; i--) {
    if (bytes[i] === 0x22 && bytes[i + key.length + 1] === 0x22 && bytes[i + key.length + 2] === 0x3a && spells(bytes, i + 1, key)) return i;
  }
  return stop > 0 ? bytes.lastIndexOf(`"${key}":`, stop - 1, 'latin1') : -1;
}

/** The index of the first quote at or after `from`, or -1. */
function quoteAfter(bytes: Buffer, from: number): number {
  for (let i = from; i < bytes.length; i++) if (bytes[i] === 0x22) return i;
  return -1;
}

function hasBackslash(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] === 0x5c) return true;
  return false;
}

/** Which of `names` (plain ASCII) the bytes [from, to) spell, or -1. */
function nameAt(bytes: Buffer, from: number, to: number, names: readonly string[]): number {
  for (let n = 0; n < names.length; n++) if (names[n].length === to - from && spells(bytes, from, names[n])) return n;
  return -1;
}

/** Whether the bytes from `from` on begin with `name` (plain ASCII). */
function spells(bytes: Buffer, from: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if (bytes[from + i] !== name.charCodeAt(i)) return false;
  return true;
}

/** `-?(0|[1-9][0-9]*)` of at most 15 digits as a number; undefined for any other form. */
function plainInteger(bytes: Buffer, from: number, to: number): number | undefined {
  const negative = bytes[from] === 0x2d;
  const first = negative ? from + 1 : from;
  if (to - first > 15 || (bytes[first] === 0x30 && to - first > 1)) return undefined;
  let n = 0;
  for (let i = first; i < to; i++) {
    const d = bytes[i] - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

/**
 * Checks JSON without escapes (compact, or with whitespace between tokens) within `bytes`
 * up to `limit`, returning where each value or string ends, or -1 for anything else —
 * which includes every text `JSON.parse` refuses.
 */
class UnescapedReader {
  constructor(
    readonly bytes: Buffer,
    private readonly limit: number,
  ) {}

  /** `at`, or past the whitespace that begins there. */
  skip(at: number): number {
    // Every byte of JSON's tokens is above the space: compact JSON leaves here.
    if (!(this.bytes[at] <= 0x20)) return at;
    while (at < this.limit && isJsonSpace(this.bytes[at])) at++;
    return at;
  }

  /** The end of the string opening at `at` (just past its closing quote), or -1. */
  string(at: number): number {
    const { bytes } = this;
    if (bytes[at] !== 0x22) return -1;
    for (let i = at + 1; i < this.limit; i++) {
      const c = bytes[i];
      if (c === 0x22) return i + 1;
      if (c === 0x5c || c < 0x20) return -1;
    }
    return -1;
  }

  /** The end of the value opening at `at`, or -1. */
  value(at: number, depth: number): number {
    const { bytes } = this;
    const c = bytes[at];
    if (c === 0x22) return this.string(at);
    if (c === 0x7b || c === 0x5b) return depth >= 16 ? -1 : this.container(at, c === 0x7b, depth + 1);
    if (isNumberStart(c)) return this.number(at);
    for (const word of LITERALS) if (at + word.length <= this.limit && spells(bytes, at, word)) return at + word.length;
    return -1;
  }

  private container(at: number, object: boolean, depth: number): number {
    const { bytes } = this;
    const close = object ? 0x7d : 0x5d;
    let i = this.skip(at + 1);
    if (bytes[i] === close) return i + 1;
    for (;;) {
      if (object) {
        i = this.string(i);
        if (i < 0) return -1;
        i = this.skip(i);
        if (bytes[i] !== 0x3a) return -1;
        i = this.skip(i + 1);
      }
      i = this.value(i, depth);
      if (i < 0) return -1;
      i = this.skip(i);
      if (i >= this.limit) return -1;
      const c = bytes[i];
      if (c === close) return i + 1;
      if (c !== 0x2c) return -1;
      i = this.skip(i + 1);
    }
  }

  /** JSON's number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
  private number(at: number): number {
    const { bytes } = this;
    let i = at;
    if (bytes[i] === 0x2d) i++;
    if (bytes[i] === 0x30) i++;
    else if (isDigit(bytes[i])) while (isDigit(bytes[i])) i++;
    else return -1;
    if (bytes[i] === 0x2e) {
      if (!isDigit(bytes[++i])) return -1;
      while (isDigit(bytes[i])) i++;
    }
    const e = bytes[i];
    if (e === 0x65 || e === 0x45) {
      const s = bytes[++i];
      if (s === 0x2b || s === 0x2d) i++;
      if (!isDigit(bytes[i])) return -1;
      while (isDigit(bytes[i])) i++;
    }
    return i <= this.limit ? i : -1;
  }
}

const LITERALS = ['true', 'false', 'null'];

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
