/**
 * Random JSON values whose strings mix ASCII, JSON's special characters and characters
 * outside ASCII of every UTF-8 length, for tests that compare two ways of reading a body.
 * Deterministic (xorshift), so a failure names a seed that reproduces it.
 */

/** `value` with every string (keys too) passed through `f`. */
export function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [f(k), mapStrings(v, f)]));
  return value;
}

/** A deterministic generator (xorshift), so a failure names a seed that reproduces it. */
export function random(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export const ALPHABET = ['a', 'Z', ' ', '"', '\\', '\n', '\u0001', 'é', 'ß', '–', '“', '→', '✓', '中', '\uffff', '😀', '𝄞', '\u0080', '\u07ff', '\u0800'];

export function randomText(next: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

export function randomValue(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth > 3 || pick < 0.35) return randomText(next, Math.floor(next() * 12));
  if (pick < 0.45) return Math.floor(next() * 1e6) / 100;
  if (pick < 0.5) return next() < 0.5;
  if (pick < 0.75) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, () => [randomText(next, 1 + Math.floor(next() * 5)), randomValue(next, depth + 1)]));
}

/** `json` with some characters outside ASCII written as `\u` escapes, as a client may. */
export function escapeSome(json: string, next: () => number): string {
  // Whole characters (u flag): an astral one is escaped as its surrogate pair, never half.
  const escape = (c: string): string => [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');
  return json.replace(/[^\x00-\x7f]/gu, (c) => (next() < 0.5 ? c : escape(c)));
}

/** Strings of `n` characters drawn from `pieces`. */
export function textFrom(next: () => number, pieces: readonly string[]): (n: number) => string {
  return (n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += pieces[Math.floor(next() * pieces.length)];
    return s;
  };
}

/**
 * A random JSON value for tests of the body scanner: strings from `str`, about one in ten
 * long enough for it to take (500 characters and more), and now and then a long key.
 */
export function randomScannable(next: () => number, str: (n: number) => string, depth = 0): unknown {
  const pick = next();
  if (depth > 3 || pick < 0.3) return str(next() < 0.3 ? 500 + Math.floor(next() * 2000) : Math.floor(next() * 20));
  if (pick < 0.4) return Math.floor(next() * 1e6) / 100;
  if (pick < 0.45) return next() < 0.5 ? null : next() < 0.5;
  if (pick < 0.7) return Array.from({ length: Math.floor(next() * 5) }, () => randomScannable(next, str, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, () => [str(1 + Math.floor(next() * (next() < 0.1 ? 700 : 6))), randomScannable(next, str, depth + 1)]));
}
