/**
 * The text delta, most events of an Anthropic stream, in the exact compact form Anthropic
 * writes it:
 *
 *   event: content_block_delta\n
 *   data: {"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"…"}}\n\n
 *
 * read two ways without parsing the event: from a decoded event's data ({@link textDeltaJson})
 * and, for chunks made only of such events, from the bytes ({@link textDeltaSpans}). Any
 * deviation (other keys, spacing, a malformed string) is left to the full parse.
 */

const TEXT_DELTA_HEAD = '{"type":"content_block_delta","index":';
const TEXT_DELTA_MID = ',"delta":{"type":"text_delta","text":';

/**
 * Both, with the index between them, as one compiled match: an event's data is a slice of
 * the decoded chunk, and comparing slices of it with `===` goes through V8's runtime
 * (~45 ns each, twice a frame); the expression reads the characters in place (~30 ns).
 */
const TEXT_DELTA_PREFIX = new RegExp(`^${escapeRegExp(TEXT_DELTA_HEAD)}\\d+${escapeRegExp(TEXT_DELTA_MID)}`);

/** Characters a JSON string must escape: the literal cannot be passed on as it is. */
const NEEDS_ESCAPE = /["\\\x00-\x1f]/;

/**
 * The text of a text delta's data, returned serialized, exactly as `JSON.stringify(text)`
 * writes it; undefined for anything else, which then takes the full parse.
 */
export function textDeltaJson(data: string): string | undefined {
  if (!TEXT_DELTA_PREFIX.test(data) || !data.endsWith('"}}')) return undefined;
  let i = TEXT_DELTA_HEAD.length;
  while (data.charCodeAt(i) >= 48 && data.charCodeAt(i) <= 57) i++;
  const literal = data.slice(i + TEXT_DELTA_MID.length, -2);
  // No escapes, quotes or control characters inside: the literal is already JSON.stringify's text.
  if (literal.length >= 2 && literal.charCodeAt(0) === 34 && !NEEDS_ESCAPE.test(literal.slice(1, -1))) return literal;
  try {
    // One JSON string and nothing else, or it throws: `"a","x":"b"` is not one.
    const text: unknown = JSON.parse(literal);
    return typeof text === 'string' ? JSON.stringify(text) : undefined;
  } catch {
    return undefined;
  }
}

const EVENT_HEAD = Buffer.from(`event: content_block_delta\ndata: ${TEXT_DELTA_HEAD}`, 'latin1');
const TEXT_HEAD = Buffer.from(`${TEXT_DELTA_MID}"`, 'latin1');
const EVENT_END = Buffer.from('"}}\n\n', 'latin1');

/**
 * Where the text of each event lies in `chunk`, as [start, end) pairs of the text between
 * its quotes, when `chunk` is nothing but whole text-delta events whose text is printable
 * ASCII without `"` or `\` — the literal then goes into the OpenAI chunk byte for byte, so
 * the chunk is translated without decoding it (the string path: ~0.8 µs a frame in a tight
 * loop, this ~0.4). Undefined otherwise: another event, CRLF, an escape, a byte outside
 * ASCII, a partial event; the string path gives the same bytes for what this accepts.
 * @example
 * textDeltaSpans(Buffer.from('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n'))
 * // [107, 109]
 */
export function textDeltaSpans(chunk: Uint8Array): number[] | undefined {
  const spans: number[] = [];
  const n = chunk.length;
  let at = 0;
  while (at < n) {
    if (!bytesAt(chunk, at, EVENT_HEAD)) return undefined;
    let i = at + EVENT_HEAD.length;
    const digits = i;
    while (i < n && chunk[i] >= 0x30 && chunk[i] <= 0x39) i++;
    if (i === digits || !bytesAt(chunk, i, TEXT_HEAD)) return undefined;
    const start = i + TEXT_HEAD.length;
    // The text runs to the first quote; a backslash (an escape), a control byte or one past
    // ASCII sends the chunk to the string path.
    let end = start;
    for (;;) {
      if (end >= n) return undefined;
      const c = chunk[end];
      if (c === 0x22) break;
      if (c === 0x5c || c < 0x20 || c > 0x7e) return undefined;
      end++;
    }
    if (!bytesAt(chunk, end, EVENT_END)) return undefined;
    spans.push(start, end);
    at = end + EVENT_END.length;
  }
  return spans.length > 0 ? spans : undefined;
}

function bytesAt(chunk: Uint8Array, at: number, expected: Uint8Array): boolean {
  if (at + expected.length > chunk.length) return false;
  for (let k = 0; k < expected.length; k++) if (chunk[at + k] !== expected[k]) return false;
  return true;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
