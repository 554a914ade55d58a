/**
 * Most chunks of an Anthropic stream are one text delta, or a few, in the exact compact
 * form Anthropic writes:
 *
 *   event: content_block_delta\n
 *   data: {"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"…"}}\n\n
 *
 * When the text is plain ASCII with nothing JSON escapes, its literal goes into the OpenAI
 * chunk byte for byte, so such a chunk is translated without decoding it: the string path
 * (decode, split into events, match, join, encode) cost ~0.8 µs a frame in a tight loop.
 * Anything else — another event, other spacing, CRLF, an escape, a byte outside ASCII, a
 * partial event — is left to that path, which gives the same bytes for what this accepts.
 */

const EVENT_HEAD = Buffer.from('event: content_block_delta\ndata: {"type":"content_block_delta","index":', 'latin1');
const TEXT_HEAD = Buffer.from(',"delta":{"type":"text_delta","text":"', 'latin1');
const EVENT_END = Buffer.from('"}}\n\n', 'latin1');

/**
 * Where the text of each event lies in `chunk`, as [start, end) pairs of the text between
 * its quotes, when `chunk` is nothing but whole text-delta events of that form whose text
 * is printable ASCII without `"` or `\`; undefined otherwise.
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
