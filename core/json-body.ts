/**
 * Parsing a request body's JSON two ways.
 *
 * - {@link exactJson}: the bytes decoded as strict UTF-8 (RFC 8259), then parsed.
 * - {@link shapeJson}: the bytes read one character per byte (latin1), then parsed. JSON's
 *   syntax is all ASCII and no byte of a multi-byte UTF-8 character is, so this is the same
 *   tree — objects, arrays, keys, numbers, booleans, ASCII strings — with each string that
 *   holds other characters reading as its UTF-8 bytes ({@link shapeText} gives its text).
 *
 * Why two: on Node 20 decoding UTF-8 that is not all ASCII costs ~2 ns a byte, and the
 * two-byte string it makes is twice the size (a 100 KB prompt lands in V8's large-object
 * space, fresh pages each time). One emoji in an agent's 100 KB prompt made decode and parse
 * ~390 µs against ~35 µs for the same size in ASCII. Checks of a request's shape — its
 * schema, model, stream flag, output cap — need none of that text.
 */
import { isAscii, isUtf8, transcode } from 'node:buffer';
import { GatewayError } from './errors.js';
import { ContainerBudget } from './json-density.js';
import { scanLatin1Json, skimLatin1Json } from './json-scan/latin1-json.js';
import { serializeWithLiterals, type StringLiterals } from './json-scan/string-literals.js';
import { utf8Bytes } from './utf8-bytes.js';
import { stringifyJson } from './json-write.js';

function malformed(message: string): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_MALFORMED_JSON', message);
}

function notUtf8(): GatewayError {
  // A lossy decode would let filters judge other text than the bytes forwarded.
  return malformed('Request body is not valid UTF-8');
}

/**
 * Valid UTF-8 as a string. ICU's converter to UTF-16 and a copy cost about half of V8's own
 * decoder (TextDecoder, `toString('utf8')`); `isUtf8` (SIMD) keeps it strict, as the
 * converter would substitute U+FFFD. A BOM is kept, so JSON.parse refuses it.
 */
function decodeUtf8(bytes: Buffer): string {
  if (!isUtf8(bytes)) throw notUtf8();
  return toUtf16(bytes);
}

// `transcode` is there only when Node was built with ICU (official builds are); without it, V8's decoder.
const toUtf16: (valid: Buffer) => string =
  typeof transcode === 'function' ? (valid) => transcode(valid, 'utf8', 'utf16le').toString('utf16le') : (valid) => valid.toString('utf8');

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw malformed(`Request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The body as JSON with its exact text. Throws a 400 `GatewayError` for anything else. */
export function exactJson(bytes: Buffer): unknown {
  if (bytes.length === 0) throw malformed('Request body is empty; a JSON body is required');
  // ASCII (the common case) is valid UTF-8 read byte for byte.
  return isAscii(bytes) ? parseLatin1(bytes) : parse(decodeUtf8(bytes));
}

/** `JSON.parse` of the bytes read one character per byte; long strings by SIMD where it can. */
function parseLatin1(bytes: Buffer): unknown {
  return skimLatin1Json(bytes) ?? parse(bytes.toString('latin1'));
}

/**
 * The body's structure without decoding its text (see the module comment). Refuses exactly
 * what {@link exactJson} refuses, with the same messages.
 */
export function shapeJson(bytes: Buffer): unknown {
  let exact: unknown = UNSET;
  return readShape(bytes, {
    json: () => (exact === UNSET ? (exact = exactJson(bytes)) : exact),
    keepParsed: (tree) => (exact === UNSET ? (exact = tree) : exact),
  }).shape;
}

const UNSET = Symbol('unset');

/** The request context's side of {@link readShape}: the body's exact tree, parsed once. */
export interface ExactTree {
  /** The exact tree ({@link exactJson}), parsed now if it was not yet. */
  json(): unknown;
  /** Keep `tree` as the exact tree unless one is kept already; returns the one kept. */
  keepParsed(tree: unknown): unknown;
}

/** A body's shape and how it was read ({@link readShape}). */
export interface Shape {
  readonly reading: ShapeReading;
  readonly shape: unknown;
  /** The long strings the scanner read into the shape, with their literals (a `bytes` or `exact` reading). */
  readonly literals?: StringLiterals;
}

/**
 * The body's shape ({@link shapeJson}) and how it was read. The exact tree comes from and
 * goes to `exact`: an ASCII body's shape is its exact tree, so one parse serves both.
 *
 * How a shape is read: `exact` — all ASCII, so its exact tree (whose strings are ASCII
 * too); `bytes` — read as latin1; `escaped` — it holds a `\u` escape of a character outside
 * ASCII, which read as latin1 would put a real character among the bytes (`"\u00e9 é"` as
 * U+00E9 then 0xC3 0xA9, which no reader could tell apart), so its exact tree is taken and
 * its strings turned into their UTF-8 bytes ({@link byteForm}) — where an escaped lone
 * surrogate, which has no bytes, reads as U+FFFD's. JS clients escape only control
 * characters (`\u001b`); Python's escape everything.
 *
 * From 8 KiB on the long-string scanner (`json-scan/latin1-json.ts`) reads the body once,
 * for its tree and for whether it escapes characters outside ASCII.
 */
export function readShape(bytes: Buffer, exact: ExactTree): Shape {
  // Empty: the exact parse's refusal.
  if (bytes.length === 0) return { reading: 'exact', shape: exact.json() };
  const ascii = isAscii(bytes);
  // Not UTF-8: every reading refuses it, with this error.
  if (!ascii && !isUtf8(bytes)) throw notUtf8();
  const scan = scanLatin1Json(bytes, true);
  const escaped = scan ? scan.escapesBeyondAscii : escapesBeyondAscii(bytes);
  if (ascii) {
    // ASCII read as latin1 is the exact text: what the scanner read is the exact tree.
    const tree = scan ? exact.keepParsed(scan.tree ?? parse(bytes.toString('latin1'))) : exact.json();
    return escaped ? { reading: 'escaped', shape: byteForm(tree) } : { reading: 'exact', shape: tree, literals: scan?.literals };
  }
  if (escaped) return { reading: 'escaped', shape: byteForm(exact.json()) };
  return scan?.tree !== undefined ? { reading: 'bytes', shape: scan.tree, literals: scan.literals } : { reading: 'bytes', shape: latin1Shape(bytes) };
}

export type ShapeReading = 'exact' | 'bytes' | 'escaped';

/** The shape of valid UTF-8 read as latin1, by JSON.parse. */
function latin1Shape(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('latin1'));
  } catch {
    // The error names the text near the fault; let the exact parse say it in real characters.
    return exactJson(bytes);
  }
}

/** A string's UTF-8 bytes, one character per byte (a lone surrogate becomes U+FFFD's). */
function bytesOf(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

/**
 * A copy of a parsed tree with every string and key as {@link bytesOf}: a shape. Iterative,
 * as JSON may nest deeper than the stack; keys keep their order.
 */
function byteForm(tree: unknown): unknown {
  const root: { value?: unknown } = {};
  const work: Array<[from: unknown, into: Record<string, unknown> | unknown[], key: string | number]> = [[tree, root, 'value']];
  for (let item = work.pop(); item; item = work.pop()) {
    const [from, into, key] = item;
    let copy: unknown = from;
    if (typeof from === 'string') copy = bytesOf(from);
    else if (Array.isArray(from)) {
      const list = new Array<unknown>(from.length);
      for (let i = 0; i < from.length; i++) work.push([from[i], list, i]);
      copy = list;
    } else if (from !== null && typeof from === 'object') {
      const object: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(from)) {
        const name = bytesOf(k);
        // Defined, not assigned: a key named __proto__ is data in JSON, as JSON.parse makes it.
        Object.defineProperty(object, name, { value: undefined, writable: true, enumerable: true, configurable: true });
        work.push([v, object, name]);
      }
      copy = object;
    }
    (into as Record<string | number, unknown>)[key] = copy;
  }
  return root.value;
}

const BACKSLASH_U = Buffer.from('\\u');
const ZERO = 0x30;
const SEVEN = 0x37;

/**
 * Whether the bytes hold a `\u` escape of U+0080 or above. Conservative: an escaped
 * backslash followed by `u` (`\\u00e9`, six characters of text) counts too, which only
 * costs the exact parse.
 */
function escapesBeyondAscii(bytes: Buffer): boolean {
  for (let at = bytes.indexOf(BACKSLASH_U); at >= 0; at = bytes.indexOf(BACKSLASH_U, at + 2)) {
    // \u0000-\u007f: ASCII, exact in the shape too.
    if (!(bytes[at + 2] === ZERO && bytes[at + 3] === ZERO && bytes[at + 4] >= ZERO && bytes[at + 4] <= SEVEN)) return true;
  }
  return false;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** The text of a string read from {@link shapeJson}'s tree. */
export function shapeText(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

/**
 * How the strings of a parsed request are held, for code that builds another JSON body
 * from them (the unified endpoint's translators): as text, `ctx.json()`'s tree, or as
 * UTF-8 bytes one character per byte, `ctx.jsonShape()`'s. Strings copied from the request
 * and ASCII added to them serialise to the same bytes either way — `JSON.stringify`
 * escapes only ASCII and lone surrogates, and UTF-8 puts no ASCII byte inside a
 * multi-byte character — so a translator written against this never decodes the prompt.
 */
export interface BodyStrings {
  /** `text` for {@link TEXT_STRINGS}; `bytes` for {@link BYTE_STRINGS} and its per-request copies. */
  readonly form: 'text' | 'bytes';
  /** The text of a string from the request (for a message that quotes it, or a test of its text). */
  text(s: string): string;
  /** Text as a string of this form, to put into a body built from the request. */
  of(text: string): string;
  /** Parse JSON held in a request string (a tool call's `arguments`); its strings come out in this form. */
  parse(json: string): unknown;
  /** The bytes to send for JSON serialised from strings of this form. */
  encode(json: string): Buffer;
  /**
   * The bytes to send for `value` as JSON: `encode(JSON.stringify(value))`, the request's
   * long strings copied as they came where it can (see `json-scan/string-literals.ts`).
   */
  serialize(value: unknown): Buffer;
}

/** Strings held as text: `ctx.json()`. */
export const TEXT_STRINGS: BodyStrings = {
  form: 'text',
  text: (s) => s,
  of: (text) => text,
  parse: (json) => JSON.parse(json),
  encode: utf8Bytes,
  serialize: (value) => utf8Bytes(stringifyJson(value)),
};

/**
 * Strings held as their UTF-8 bytes: `ctx.jsonShape()` of a body not read `escaped` (see
 * {@link readShape}; that shape cannot hold a lone surrogate an escape spelled, so the
 * text form must send it as the client did). `ctx.rewritableBody()` makes the choice.
 */
export const BYTE_STRINGS: BodyStrings = {
  form: 'bytes',
  text: shapeText,
  of: bytesOf,
  // Nested JSON is read as the body is: its own `\u` escapes come out as bytes too. Not
  // through shapeJson, whose refusal re-parses the text for its message: a tool result
  // tried as JSON is mostly plain text, and callers here only need to know it failed.
  parse: (json) => (escapesBeyondAscii(Buffer.from(json, 'latin1')) ? byteForm(JSON.parse(shapeText(json))) : JSON.parse(json)),
  encode: latin1Bytes,
  serialize: (value) => latin1Bytes(stringifyJson(value)),
};

/**
 * `strings` for one request's body of `bodyLength` bytes, whose `parse` counts every text it
 * is given into one {@link ContainerBudget} sized by the body: JSON held in a request's
 * strings (tool calls' `arguments`) is refused as a dense body would be, in one string or
 * spread over many (core/json-density.ts). The unified endpoint gives these to a body of
 * 256 KiB or more; a smaller one cannot hold enough to matter.
 */
export function budgetedStrings(strings: BodyStrings, bodyLength: number): BodyStrings {
  const budget = new ContainerBudget(bodyLength);
  const encoding = strings.form === 'text' ? 'utf8' : 'latin1';
  return {
    ...strings,
    parse: (json) => {
      const refusal = budget.count(Buffer.from(json, encoding));
      if (refusal) throw refusal;
      return strings.parse(json);
    },
  };
}

function latin1Bytes(json: string): Buffer {
  return Buffer.from(json, 'latin1');
}

/** {@link BYTE_STRINGS} for a tree that holds `literals`' strings: serialised with them copied. */
export function byteStringsWith(literals: StringLiterals | undefined): BodyStrings {
  return literals ? { ...BYTE_STRINGS, serialize: (value) => serializeWithLiterals(value, literals) } : BYTE_STRINGS;
}

/** A parsed body to build another body from, and how it holds its strings. */
export interface RewritableBody {
  readonly value: unknown;
  readonly strings: BodyStrings;
}
