/**
 * The OpenAI stream meter parses only the chunks that can say something new (the first,
 * for the model; usage; errors) and still counts exactly what the stream reports.
 */
import t from 'tap';
import { OpenAIStreamMeter } from '../../../providers/openai/usage.js';

function chunk(body: Record<string, unknown>): Buffer {
  return Buffer.from(`data: ${JSON.stringify(body)}\n\n`);
}

const content = (text: string, extra: Record<string, unknown> = {}) =>
  chunk({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-x', choices: [{ index: 0, delta: { content: text }, finish_reason: null }], ...extra });

function meter(chunks: Buffer[]): OpenAIStreamMeter {
  const m = new OpenAIStreamMeter();
  for (const c of chunks) m.write(c);
  m.write(Buffer.from('data: [DONE]\n\n'));
  m.end();
  return m;
}

t.test('include_usage: every chunk has "usage":null, the last one counts', async (t) => {
  const chunks = Array.from({ length: 40 }, (_, i) => content(`t${i} says "usage": {"prompt_tokens": 999}`, { usage: null }));
  chunks.push(chunk({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-x', choices: [], usage: { prompt_tokens: 30, completion_tokens: 40, prompt_tokens_details: { cached_tokens: 10 } } }));
  const m = meter(chunks);
  t.equal(m.model, 'gpt-x');
  t.match(m.usage, { inputTokens: 20, cacheReadTokens: 10, outputTokens: 40 });
  t.equal(m.streamError, undefined);
});

t.test('usage on the last content chunk (services that always report it)', async (t) => {
  const m = meter([content('a'), content('b'), content('c', { usage: { prompt_tokens: 5, completion_tokens: 3 } })]);
  t.match(m.usage, { inputTokens: 5, outputTokens: 3 });
});

t.test('an error chunk mid-stream is read', async (t) => {
  const m = meter([content('a'), content('b'), chunk({ error: { type: 'server_error', message: 'overloaded' } })]);
  t.equal(m.streamError, 'server_error: overloaded');
});

t.test('the model comes from the first chunk that names one', async (t) => {
  const m = meter([chunk({ choices: [{ index: 0, delta: { role: 'assistant' } }] }), content('x'), content('y', { model: 'other' })]);
  t.equal(m.model, 'gpt-x');
});
