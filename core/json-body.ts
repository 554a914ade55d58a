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
  // ASCII (the common case) is valid UTF-8 read byte for byte: a SIMD check and a copy.
  return parse(isAscii(bytes) ? bytes.toString('latin1') : decodeUtf8(bytes));
}

/**
 * The body's structure without decoding its text (see the module comment). Refuses exactly
 * what {@link exactJson} refuses, with the same messages.
 */
export function shapeJson(bytes: Buffer): unknown {
  if (bytes.length === 0 || isAscii(bytes)) return exactJson(bytes);
  if (!isUtf8(bytes)) throw notUtf8();
  try {
    return JSON.parse(bytes.toString('latin1'));
  } catch {
    // The error names the text near the fault; let the exact parse say it in real characters.
    return exactJson(bytes);
  }
}

const NON_ASCII = /[^\x00-\x7f]/;

/** The text of a string read from {@link shapeJson}'s tree. */
export function shapeText(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}
