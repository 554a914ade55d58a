import Anthropic from '@anthropic-ai/sdk';
import t from 'tap';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { DEFAULT_USAGE } from '../../mocks/anthropic-mock.js';
import { CLIENT_KEY, GATEWAY_KEY, startAnthropic } from '../../helpers/anthropic.js';

const EXPECTED = {
  inputTokens: DEFAULT_USAGE.input_tokens,
  outputTokens: DEFAULT_USAGE.output_tokens,
  cacheCreationTokens: DEFAULT_USAGE.cache_creation_input_tokens,
  cacheReadTokens: DEFAULT_USAGE.cache_read_input_tokens,
};

const weather = { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } }, required: ['location'] } };

t.test('the real SDK, non-streamed, with x-api-key and with a Bearer token', async (t) => {
  const { mock, base } = await startAnthropic(t);
  for (const [name, client] of [
    ['apiKey', new Anthropic({ baseURL: base, apiKey: CLIENT_KEY, maxRetries: 0 })],
    ['authToken', new Anthropic({ baseURL: base, apiKey: null, authToken: CLIENT_KEY, maxRetries: 0 })],
  ] as const) {
    const { data: message, response } = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello, Claude' }] }).withResponse();
    t.equal(message.type, 'message', `${name}: a Message`);
    t.same(message.content, [{ type: 'text', text: mock.text }], `${name}: content`);
    t.equal(message.usage.cache_read_input_tokens, DEFAULT_USAGE.cache_read_input_tokens, `${name}: usage reaches the client`);
    const up = mock.last!;
    t.equal(up.url, '/v1/messages', `${name}: path`);
    t.equal(up.headers['x-api-key'], GATEWAY_KEY, `${name}: gateway key upstream`);
    t.notOk(up.headers.authorization, `${name}: no client credential upstream`);
    // The 1.x SDK sends a newer date than the gateway's default: it must pass unchanged.
    t.match(up.headers['anthropic-version'], /^\d{4}-\d{2}-\d{2}$/, `${name}: a version upstream`);
    t.not(up.headers['anthropic-version'], '2023-06-01', `${name}: the SDK's own version, not the default`);
    const { outcome } = await outcomeFor(response.headers.get('x-request-id') ?? '');
    t.same(outcome.usage, EXPECTED, `${name}: usage recorded`);
  }
});

t.test('the real SDK, streamed: text and tool use', async (t) => {
  const { mock, base } = await startAnthropic(t);
  const client = new Anthropic({ baseURL: base, apiKey: CLIENT_KEY, maxRetries: 0 });

  const texts: string[] = [];
  const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello' }] }).on('text', (d) => texts.push(d));
  const final = await stream.finalMessage();
  t.equal(texts.join(''), mock.text, 'text deltas arrive in order');
  t.ok(texts.length > 3, 'as several deltas');
  t.same(final.usage, { ...DEFAULT_USAGE, output_tokens: DEFAULT_USAGE.output_tokens }, 'final usage as the SDK sees it');
  const requestId = (await stream.withResponse()).response.headers.get('x-request-id') ?? '';
  t.same((await outcomeFor(requestId)).outcome.usage, EXPECTED, 'usage recorded for the stream');

  const tool = await client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 1024, tools: [weather], messages: [{ role: 'user', content: 'Weather in Paris?' }] }).finalMessage();
  t.equal(tool.stop_reason, 'tool_use');
  t.same(tool.content.find((b) => b.type === 'tool_use'), { type: 'tool_use', id: 'toolu_mock01', name: 'get_weather', input: { location: 'Paris, France', unit: 'celsius' } }, 'tool input rebuilt from input_json_delta');
});

t.test('the real SDK: auxiliary endpoints', async (t) => {
  const { base } = await startAnthropic(t);
  const client = new Anthropic({ baseURL: base, apiKey: CLIENT_KEY, maxRetries: 0 });
  const count = await client.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello' }] });
  t.equal(count.input_tokens, DEFAULT_USAGE.input_tokens, 'count_tokens');
  const models = await client.models.list();
  t.equal(models.data[0]?.id, 'claude-sonnet-4-5-20250929', 'models.list');
});

t.test('the real SDK against an unconfigured gateway raises its 503 error class', async (t) => {
  const { base } = await startAnthropic(t, { apiKey: '' });
  const client = new Anthropic({ baseURL: base, apiKey: CLIENT_KEY, maxRetries: 0 });
  const err = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
  t.ok(err instanceof Anthropic.APIError, 'an APIError');
  t.equal((err as InstanceType<typeof Anthropic.APIError>).status, 503);
  t.match((err as InstanceType<typeof Anthropic.APIError>).error, { type: 'error', error: { message: /not configured/ } }, 'the Anthropic error body parsed');
});
