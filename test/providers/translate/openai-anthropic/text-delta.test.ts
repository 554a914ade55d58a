/**
 * The text-delta fast path reads exactly what a full JSON parse would, and declines
 * (undefined → full parse) whenever the event is not the exact compact shape.
 */
import t from 'tap';
import { textDelta } from '../../../../providers/translate/openai-anthropic/stream.js';

const event = (text: unknown, index: unknown = 0): string => JSON.stringify({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });

t.test('reads the text of the compact form, escapes and all', async (t) => {
  for (const text of ['', 'tok5 ', 'a "quoted" word', 'ends with "}}', 'back\\slash', 'line\nbreak\ttab', 'héllo ✓ 😀', '\u2028\u0000', '{"type":"x"}']) {
    t.ok(textDelta(event(text)) === text, `case ${JSON.stringify(text).replace(/[^\x20-\x7e]/g, '?')}`);
  }
  t.equal(textDelta(event('x', 12)), 'x', 'any block index');
  t.equal(textDelta('{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\\u00e9\\ud83d\\ude00"}}'), 'é😀', 'unicode escapes');
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
    ['truncated', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}'],
  ];
  for (const [name, data] of cases) t.equal(textDelta(data), undefined, name);
});
