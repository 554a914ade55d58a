/**
 * Reading a few top-level members of a JSON response without parsing all of it: a usage
 * meter wants the served model (near the start) and the token counts (the last member),
 * while the content between them — the bulk of the answer — is only passed on.
 *
 * Both readers are strict and say "don't know" (undefined) whenever the text is not in
 * the compact shape they recognise; the caller then parses the whole body. Whenever they
 * do answer, the answer is what `JSON.parse` of a valid document would give.
 */

/**
 * The values of `keys` among the string members the object opens with, up to the first
 * member whose value is not a plain string: for `{"id":"m","type":"message","content":[…`
 * and keys `['type', 'model']` that is `['message', undefined]`. Undefined when the text
 * does not open with a compact object, a key or value there holds an escape, or a wanted
 * key comes twice in the run (JSON.parse keeps the last) — the caller parses instead.
 * A wanted key repeated after the run, past the content, is not looked for: no provider
 * answer that uses this repeats a key.
 */
export function leadingStrings(text: string, keys: readonly string[]): (string | undefined)[] | undefined {
  if (text.charCodeAt(0) !== 0x7b /* { */) return undefined;
  const values: (string | undefined)[] = keys.map(() => undefined);
  let at = 1;
  for (;;) {
    if (text.charCodeAt(at) !== 0x22 /* " */) return at === 1 && text.charCodeAt(1) === 0x7d ? values : undefined;
    const keyEnd = text.indexOf('"', at + 1);
    if (keyEnd < 0 || text.charCodeAt(keyEnd + 1) !== 0x3a /* : */) return undefined;
    // A quote after a backslash may be escaped: not sure where the key ends.
    if (text.charCodeAt(keyEnd - 1) === 0x5c /* \\ */) return undefined;
    const key = text.slice(at + 1, keyEnd);
    if (key.includes('\\')) return undefined; // `typ\u0065` is `type` to JSON.parse
    const valueAt = keyEnd + 2;
    // The first member that is not a string ends the run; what came before stands.
    if (text.charCodeAt(valueAt) !== 0x22) return values;
    const valueEnd = text.indexOf('"', valueAt + 1);
    if (valueEnd < 0) return undefined;
    const wanted = keys.indexOf(key);
    if (wanted >= 0) {
      const value = text.slice(valueAt + 1, valueEnd);
      if (value.includes('\\') || values[wanted] !== undefined) return undefined;
      values[wanted] = value;
    } else if (text.charCodeAt(valueEnd - 1) === 0x5c) {
      return undefined; // the quote may be escaped: not sure where the value ends
    }
    const next = text.charCodeAt(valueEnd + 1);
    if (next === 0x7d /* } */) return values;
    if (next !== 0x2c /* , */) return undefined;
    at = valueEnd + 2;
  }
}

/**
 * The value of `key` when it is the object's last member: `{…,"usage":{"a":1}}` gives
 * `{ a: 1 }`. Undefined otherwise (another member follows, it is nested, or the text is not
 * a compact object). Why this is safe: `"usage":` with an unescaped opening quote can only
 * be a key, and its value must parse on its own from the colon to the object's final `}`
 * — a key nested in an inner object would leave that object's `}` in the slice.
 */
export function lastMemberValue(text: string, key: string): unknown {
  const span = lastMemberSpan(text, key);
  if (!span) return undefined;
  try {
    return JSON.parse(text.slice(span.start, span.end));
  } catch {
    return undefined;
  }
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The numbers `names` hold in the object that is `key`'s value and the top-level object's
 * last member, read without `JSON.parse` (which, on a hot path, pays a string-table lookup
 * for every key): for `{…,"usage":{"input_tokens":3,"tier":"x"}}` and names
 * `['input_tokens', 'output_tokens']` that is `[3, undefined]`. A name whose value is not a
 * number (or is absent) reads undefined, as does any name but the last of duplicates.
 * Undefined — parse instead — unless the value is compact JSON without escapes whose
 * wanted numbers are integers written plainly: then the answer is what `JSON.parse` of the
 * same slice would give.
 */
export function lastMemberNumbers(text: string, key: string, names: readonly string[]): (number | undefined)[] | undefined {
  const span = lastMemberSpan(text, key);
  if (!span || text.charCodeAt(span.start) !== 0x7b /* { */) return undefined;
  const values: (number | undefined)[] = names.map(() => undefined);
  const reader = new CompactReader(text, span.end);
  let at = span.start + 1;
  if (text.charCodeAt(at) === 0x7d /* } */) return at + 1 === span.end ? values : undefined;
  for (;;) {
    const wanted = quotedNameAt(text, at, names);
    const keyEnd = wanted >= 0 ? at + names[wanted].length + 2 : reader.string(at);
    if (keyEnd < 0 || text.charCodeAt(keyEnd) !== 0x3a /* : */) return undefined;
    const valueAt = keyEnd + 1;
    const valueEnd = reader.value(valueAt, 0);
    if (valueEnd < 0) return undefined;
    if (wanted >= 0) {
      const c = text.charCodeAt(valueAt);
      if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
        const n = plainInteger(text, valueAt, valueEnd);
        if (n === undefined) return undefined; // a fraction or an exponent: JSON.parse reads it
        values[wanted] = n;
      } else {
        values[wanted] = undefined; // null, a string, …: not a count (and the last one wins)
      }
    }
    const next = text.charCodeAt(valueEnd);
    if (next === 0x7d) return valueEnd + 1 === span.end ? values : undefined;
    if (next !== 0x2c /* , */) return undefined;
    at = valueEnd + 1;
  }
}

/** Where `key`'s value lies when it is the top-level object's last member: [start, end). */
function lastMemberSpan(text: string, key: string): { start: number; end: number } | undefined {
  if (text.charCodeAt(0) !== 0x7b) return undefined;
  let end = text.length - 1;
  while (end > 0 && isJsonSpace(text.charCodeAt(end))) end--;
  if (text.charCodeAt(end) !== 0x7d) return undefined;
  const needle = `"${key}":`;
  const at = text.lastIndexOf(needle, end);
  if (at <= 0) return undefined;
  // Preceded by `,` or the opening `{`: a member, not the tail of an escaped string.
  const before = text.charCodeAt(at - 1);
  if (before !== 0x2c && at !== 1) return undefined;
  return { start: at + needle.length, end };
}

/** Which of `names` (plain text: no quote, no backslash) is the key quoted at `at`, or -1. */
function quotedNameAt(text: string, at: number, names: readonly string[]): number {
  if (text.charCodeAt(at) !== 0x22) return -1;
  for (let i = 0; i < names.length; i++) if (text.startsWith(names[i], at + 1) && text.charCodeAt(at + 1 + names[i].length) === 0x22) return i;
  return -1;
}

/** `-?(0|[1-9][0-9]*)` of at most 15 digits as a number; undefined for any other form. */
function plainInteger(text: string, from: number, to: number): number | undefined {
  const negative = text.charCodeAt(from) === 0x2d;
  const first = negative ? from + 1 : from;
  if (to - first > 15 || (text.charCodeAt(first) === 0x30 && to - first > 1)) return undefined;
  let n = 0;
  for (let i = first; i < to; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

/**
 * Checks compact JSON (no whitespace, no escapes) within `text` up to `limit`, returning
 * where each value or string ends, or -1 for anything else — which includes every text
 * `JSON.parse` refuses.
 */
class CompactReader {
  constructor(
    private readonly text: string,
    private readonly limit: number,
  ) {}

  /** The end of the string opening at `at` (just past its closing quote), or -1. */
  string(at: number): number {
    const { text } = this;
    if (text.charCodeAt(at) !== 0x22) return -1;
    for (let i = at + 1; i < this.limit; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return i + 1;
      if (c === 0x5c || c < 0x20) return -1;
    }
    return -1;
  }

  /** The end of the value opening at `at`, or -1. */
  value(at: number, depth: number): number {
    const { text } = this;
    const c = text.charCodeAt(at);
    if (c === 0x22) return this.string(at);
    if (c === 0x7b || c === 0x5b) return depth >= 16 ? -1 : this.container(at, c === 0x7b, depth + 1);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(at);
    for (const word of LITERALS) if (text.startsWith(word, at)) return at + word.length <= this.limit ? at + word.length : -1;
    return -1;
  }

  private container(at: number, object: boolean, depth: number): number {
    const { text } = this;
    const close = object ? 0x7d : 0x5d;
    let i = at + 1;
    if (text.charCodeAt(i) === close) return i + 1;
    for (;;) {
      if (object) {
        i = this.string(i);
        if (i < 0 || text.charCodeAt(i) !== 0x3a) return -1;
        i++;
      }
      i = this.value(i, depth);
      if (i < 0 || i >= this.limit) return -1;
      const c = text.charCodeAt(i);
      if (c === close) return i + 1;
      if (c !== 0x2c) return -1;
      i++;
    }
  }

  /** JSON's number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
  private number(at: number): number {
    const { text } = this;
    let i = at;
    if (text.charCodeAt(i) === 0x2d) i++;
    if (text.charCodeAt(i) === 0x30) i++;
    else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i++;
    else return -1;
    if (text.charCodeAt(i) === 0x2e) {
      if (!isDigit(text.charCodeAt(++i))) return -1;
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      const s = text.charCodeAt(++i);
      if (s === 0x2b || s === 0x2d) i++;
      if (!isDigit(text.charCodeAt(i))) return -1;
      while (isDigit(text.charCodeAt(i))) i++;
    }
    return i <= this.limit ? i : -1;
  }
}

const LITERALS = ['true', 'false', 'null'];

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
