/**
 * The text-delta fast path gives exactly the bytes the full path writes (JSON.stringify of
 * the parsed text), and declines (undefined → full parse) whenever the event is not the
 * exact compact shape.
 */
import t from 'tap';
import { textDeltaJson } from '../../../../providers/translate/openai-anthropic/stream.js';

const event = (text: unknown, index: unknown = 0): string => JSON.stringify({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });

t.test('reads the text of the compact form, escapes and all', async (t) => {
  for (const text of ['', 'tok5 ', 'a "quoted" word', 'ends with "}}', 'back\\slash', 'line\nbreak\ttab', 'héllo ✓ 😀', '\u2028\u0000', '{"type":"x"}']) {
    t.ok(textDeltaJson(event(text)) === JSON.stringify(text), `case ${JSON.stringify(text).replace(/[^\x20-\x7e]/g, '?')}`);
  }
  t.equal(textDeltaJson(event('x', 12)), '"x"', 'any block index');
  t.equal(textDeltaJson('{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\\u00e9\\ud83d\\ude00\\/"}}'), '"é😀/"', 'escapes are re-written as JSON.stringify writes them');
});

t.test('declines anything else, which then takes the full parse', async (t) => {
  const cases: Array<[string, string]> = [
    ['another event', JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"a"}}' } })],
    ['spaces', '{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}}'],
    ['keys after the text', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","extra":"b"}}'],
    ['keys after the delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"},"x":{"y":"z"}}'],
    ['no index digits', '{"type":"content_block_delta","index":,"delta":{"type":"text_delta","text":"a"}}'],
    ['a negative index', '{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":"a"}}'],
    ['a text that is not a string', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5"}}'],
    ['an unterminated string', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\\"}}'],
    ['a bad escape', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\\x"}}'],
    ['a raw control character', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\u0001b"}}'],
    ['a raw quote inside', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"b"}}'],
    ['truncated', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}'],
  ];
  for (const [name, data] of cases) t.equal(textDeltaJson(data), undefined, name);
});
