/**
 * `JSON.parse(bytes.toString('latin1'))`, the same tree, with the long strings read by SIMD.
 *
 * V8's JSON.parse looks at every byte of a string one at a time (~0.3 ns a byte, and ~1 ns
 * where it holds escapes); in a 100 KB prompt nearly every byte is inside one. Here a small
 * WebAssembly scanner (strings.wat) walks the string literals sixteen bytes at a time,
 * checking each as JSON.parse would and decoding its simple escapes, and records the long
 * ones in value position. JSON.parse then reads the text with each of those replaced by a
 * short placeholder — the same structure, every other token as written, so it accepts and
 * refuses exactly what the whole text would — and the placeholders are swapped for the
 * strings. A placeholder is U+0000 and the string's number, which no other string can
 * begin with: the scanner refuses any text that escapes U+0000 (a raw one is a control
 * byte JSON refuses anyway).
 *
 * Whenever the scanner refuses, or JSON.parse refuses the skeleton, the caller is told to
 * parse the whole text, which also gives V8's own message for a refusal.
 */
import { align, scannerFor } from './scanner.js';
import { StringLiterals } from './string-literals.js';

/** Below this a body is parsed whole: the scan and the swap would cost more than they save. */
const MIN_BODY = 8 * 1024;
/** Strings at least this long (raw bytes) are taken by the scanner. */
const MIN_LONG = 512;
/**
 * Text with strings closer together than this on average (bytes per string) is left to
 * JSON.parse: in a coding agent's turn of tool schemas and short messages most of the time
 * goes to objects and keys, which the skeleton's parse pays again, and the gain on its
 * long strings would not cover walking the short ones twice.
 */
const MIN_SPACING = 128;
/** Above this a body is parsed whole rather than given twice its size in scanner memory. */
const MAX_BODY = 32 * 1024 * 1024;

/** What {@link scanLatin1Json} made of a text. */
export interface Latin1Scan {
  /** `JSON.parse(bytes.toString('latin1'))`; `undefined` where the scanner left it to JSON.parse. */
  readonly tree: unknown;
  /**
   * Whether a string holds a `\u` escape of U+0080 or above (asked for with `escapes`):
   * exact when the scanner read every string; when it gave up early, from a pass over the
   * text as conservative as json-body's `escapesBeyondAscii` (an escaped backslash before
   * `u00e9` counts too).
   */
  readonly escapesBeyondAscii: boolean;
  /** The long strings the scanner took into the tree and their literals in the text (for string-literals.ts). */
  readonly literals?: StringLiterals;
}

/**
 * The text's tree where the scanner can take it, or `undefined` for a body outside the
 * sizes it takes (then nothing was read). See the module comment.
 */
export function scanLatin1Json(bytes: Buffer, escapes = false): Latin1Scan | undefined {
  const len = bytes.length;
  if (len < MIN_BODY || len > MAX_BODY) return undefined;
  const scanner = scannerFor(2 * align(len) + 64 + 16 * (Math.floor(len / MIN_LONG) + 2));
  // The text's place in memory is the WAT's to say (its escape table is below it).
  const at = scanner.text.value;
  const end = at + len;
  const out = align(end) + 16;
  const rec = out + align(len) + 32;
  const memory = Buffer.from(scanner.memory.buffer);
  bytes.copy(memory, at);
  const count = scanner.skim(end, out, rec, MIN_LONG, MIN_SPACING);
  const beyond = escapes && (count >= 0 ? scanner.beyond.value === 1 : scanner.escapesBeyondAscii(end) === 1);
  if (count <= 0) return { tree: undefined, escapesBeyondAscii: beyond };
  const read = treeOf(bytes, memory, at, count, out, rec);
  return read ? { tree: read.tree, escapesBeyondAscii: beyond, literals: read.literals } : { tree: undefined, escapesBeyondAscii: beyond };
}

/** {@link scanLatin1Json}'s tree alone. */
export function skimLatin1Json(bytes: Buffer): unknown {
  return scanLatin1Json(bytes)?.tree;
}

/**
 * The tree from the skim's `count` records (see strings.wat) and the long strings' literals,
 * or `undefined` if JSON.parse refuses the skeleton (and so the text).
 */
function treeOf(bytes: Buffer, memory: Buffer, at: number, count: number, out: number, rec: number): { tree: unknown; literals: StringLiterals } | undefined {
  // Each record: the opening and closing quotes' addresses, then the value's bytes. The
  // pieces are substrings of two whole reads (V8 slices them without copying): a Buffer's
  // toString costs ~0.2 µs a call, and an agent's turn has hundreds of strings.
  const records = new Int32Array(memory.buffer, rec, count * 4);
  const text = bytes.toString('latin1');
  const decodedEnd = lastDecodedEnd(records, count, out);
  const decoded = decodedEnd > out ? memory.toString('latin1', out, decodedEnd) : '';
  const strings = new Array<string>(count);
  const spans = new Int32Array(2 * count);
  let skeleton = '';
  let from = 0;
  for (let i = 0; i < count; i++) {
    const open = records[i * 4] - at;
    spans[2 * i] = open;
    spans[2 * i + 1] = records[i * 4 + 1] - at;
    const start = records[i * 4 + 2];
    skeleton += `${text.slice(from, open)}"\\u0000${i}"`;
    strings[i] = start >= out ? decoded.slice(start - out, records[i * 4 + 3] - out) : text.slice(start - at, records[i * 4 + 3] - at);
    from = records[i * 4 + 1] - at + 1;
  }
  skeleton += text.slice(from);

  let tree: unknown;
  try {
    tree = JSON.parse(skeleton);
  } catch {
    return undefined;
  }
  return { tree: swapPlaceholders(tree, strings), literals: new StringLiterals(bytes, strings, spans) };
}

/** The end of the last decoded string: the output area is filled in record order. */
function lastDecodedEnd(records: Int32Array, count: number, out: number): number {
  for (let i = count - 1; i >= 0; i--) if (records[i * 4 + 2] >= out) return records[i * 4 + 3];
  return out;
}

function placeholder(value: unknown): value is string {
  return typeof value === 'string' && value.charCodeAt(0) === 0;
}

/** `tree` with each placeholder replaced by its string, in place. Iterative: JSON may nest deeper than the stack. */
function swapPlaceholders(tree: unknown, strings: string[]): unknown {
  if (placeholder(tree)) return strings[Number(tree.slice(1))];
  let left = strings.length;
  const work: unknown[] = [tree];
  while (left > 0 && work.length > 0) {
    const node = work.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const value: unknown = node[i];
        if (placeholder(value)) {
          node[i] = strings[Number(value.slice(1))];
          left--;
        } else if (value !== null && typeof value === 'object') work.push(value);
      }
    } else if (node !== null && typeof node === 'object') {
      const object = node as Record<string, unknown>;
      // Own keys only; an own `__proto__` (JSON makes one for that key) is read and set as data.
      for (const key of Object.keys(object)) {
        const value = object[key];
        if (placeholder(value)) {
          object[key] = strings[Number(value.slice(1))];
          left--;
        } else if (value !== null && typeof value === 'object') work.push(value);
      }
    }
  }
  return tree;
}
