/**
 * Bundles rewritten as ASCII. esbuild escapes non-ASCII characters in code (its default
 * `charset: 'ascii'`) but keeps comments as written, and one `—` in a comment makes V8 hold
 * the whole source as two-byte text: twice the memory, and slower to decode, hash and load
 * with its code cache at every start (~3 ms for the app bundle here).
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Stand-ins that keep a comment readable; any other non-ASCII character becomes `?`. */
const READABLE: Readonly<Record<string, string>> = { '—': '-', '–': '-', '─': '-', '→': '>', '…': '.', '×': 'x', '≤': '<', '≥': '>', 'µ': 'u' };

/**
 * Each non-ASCII UTF-16 unit becomes one ASCII character, so every line keeps its length
 * and a source map's columns still hold. Only comments can hold such characters (see the
 * file comment); returns how many were replaced.
 */
export function rewriteAsciiOnly(file: string): number {
  let replaced = 0;
  const text = readFileSync(file, 'utf8').replace(/[^\x00-\x7f]/g, (c) => (replaced++, READABLE[c] ?? '?'));
  if (replaced > 0) writeFileSync(file, text);
  return replaced;
}
