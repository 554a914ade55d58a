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
  try {
    return JSON.parse(text.slice(at + needle.length, end));
  } catch {
    return undefined;
  }
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
