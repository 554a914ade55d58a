import t from 'tap';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { DEFAULT_USAGE } from '../../mocks/anthropic-mock.js';
import { messagesBody, startAnthropic } from '../../helpers/anthropic.js';

const EXPECTED = {
  inputTokens: DEFAULT_USAGE.input_tokens,
  outputTokens: DEFAULT_USAGE.output_tokens,
  cacheCreationTokens: DEFAULT_USAGE.cache_creation_input_tokens,
  cacheReadTokens: DEFAULT_USAGE.cache_read_input_tokens,
};

async function post(base: string, body: string): Promise<{ status: number; id: string; text: string; contentType: string }> {
  const res = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, id: res.headers.get('x-request-id') ?? '', text: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

t.test('non-streamed Messages: exact usage with cache tokens on the outcome', async (t) => {
  const { base } = await startAnthropic(t);
  const res = await post(base, messagesBody({ max_tokens: 777 }));
  t.equal(res.status, 200);
  const { outcome, kind, model, maxOutputTokens } = await outcomeFor(res.id);
  t.same(outcome.usage, EXPECTED, 'input, output, cache write and cache read');
  t.equal(kind, 'generation');
  t.equal(model, 'claude-sonnet-4-5', 'model from the request body');
  t.equal(maxOutputTokens, 777, 'output cap from max_tokens');
  t.equal(outcome.stream, false);
  t.equal(outcome.status, 200);
  t.equal(outcome.provider, 'anthropic');
  t.notOk(outcome.error);
});

t.test('streamed Messages: usage from message_start and the last cumulative message_delta', async (t) => {
  const { base, gw } = await startAnthropic(t);
  for (const [name, extra] of [
    ['text', {}],
    ['tool use with input_json_delta', { tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] }],
  ] as const) {
    const res = await post(base, messagesBody({ stream: true, ...extra }));
    t.equal(res.status, 200, `${name}: 200`);
    t.match(res.contentType, /^text\/event-stream/, `${name}: SSE`);
    t.equal((res.text.match(/event: message_delta/g) ?? []).length, 2, `${name}: two cumulative message_delta events passed through`);
    t.match(res.text, /event: ping/, `${name}: ping passed through`);
    const { outcome } = await outcomeFor(res.id);
    t.same(outcome.usage, EXPECTED, `${name}: exact usage, not a sum of deltas`);
    t.equal(outcome.stream, true, `${name}: stream flag`);
  }
  {
    const res = await post(base, messagesBody({ stream: true, tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] }));
    const partial = [...res.text.matchAll(/"partial_json":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string).join('');
    t.same(JSON.parse(partial), { location: 'Paris, France', unit: 'celsius' }, 'input_json_delta fragments arrive intact');
  }
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  const line = (direction: string): number => Number(metrics.match(new RegExp(`gateway_tokens_total\\{provider="anthropic",model="claude-sonnet-4-5",direction="${direction}"\\} (\\d+)`))?.[1]);
  t.equal(line('input'), 3 * EXPECTED.inputTokens, 'input tokens counted in /metrics');
  t.equal(line('output'), 3 * EXPECTED.outputTokens, 'output tokens counted in /metrics');
  t.equal(line('cache_write'), 3 * EXPECTED.cacheCreationTokens, 'cache writes counted in /metrics');
  t.equal(line('cache_read'), 3 * EXPECTED.cacheReadTokens, 'cache reads counted in /metrics');
});

t.test('auxiliary calls count no tokens', async (t) => {
  const { base } = await startAnthropic(t);
  const res = await fetch(`${base}/v1/messages/count_tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: messagesBody() });
  t.same(await res.json(), { input_tokens: DEFAULT_USAGE.input_tokens });
  const { outcome, kind } = await outcomeFor(res.headers.get('x-request-id') ?? '');
  t.equal(kind, 'auxiliary');
  t.same(outcome.usage, { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 });
});

t.test('an upstream error status is passed through and recorded as such', async (t) => {
  const { base } = await startAnthropic(t, { apiKey: 'sk-ant-wrong' });
  const res = await post(base, messagesBody());
  t.equal(res.status, 401);
  t.match(JSON.parse(res.text), { type: 'error', error: { type: 'authentication_error' } }, 'the upstream error body, untouched');
  const { outcome } = await outcomeFor(res.id);
  t.equal(outcome.error?.kind, 'upstream_status');
});
