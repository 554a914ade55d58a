/**
 * The text-delta fast path gives exactly the bytes the full path writes (JSON.stringify of
 * the parsed text), and declines (undefined → full parse) whenever the event is not the
 * exact compact shape.
 */
import t from 'tap';
import { AnthropicToOpenAIStream, textDeltaJson } from '../../../../providers/translate/openai-anthropic/stream.js';

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

t.test("a text delta's chunk is the bytes JSON.stringify writes for it, with and without usage", async (t) => {
  const sse = (data: object): string => `event: ${(data as { type: string }).type}\ndata: ${JSON.stringify(data)}\n\n`;
  const start = (model: string) => sse({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model, content: [], usage: { input_tokens: 3, output_tokens: 1 } } });
  const texts = ['tok ', 'héllo ✓ 😀', 'line\nbreak "q" \\'];
  for (const includeUsage of [false, true]) {
    const tr = new AnthropicToOpenAIStream({ id: 'chatcmpl-1', created: 1700000000, includeUsage });
    // A second message_start names another model: the chunks after it carry that one.
    const input = [start('claude-a'), ...texts.map((text) => sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })), start('claude-b'), sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'after' } })].join('');
    const frames = Buffer.from(tr.write(Buffer.from(input))).toString('utf8').split('\n\n').filter(Boolean);
    const chunks = frames.map((f) => f.slice('data: '.length));
    const expected = (model: string, delta: object) => JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1700000000, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }], ...(includeUsage ? { usage: null } : {}) });
    t.same(
      chunks,
      [expected('claude-a', { role: 'assistant', content: '' }), ...texts.map((content) => expected('claude-a', { content })), expected('claude-b', { role: 'assistant', content: '' }), expected('claude-b', { content: 'after' })],
      `include_usage ${includeUsage}: byte for byte`,
    );
  }
});
