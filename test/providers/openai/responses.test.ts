/**
 * The Responses API (`POST /v1/openai/v1/responses`) through the pass-through with the real
 * `openai` SDK: a generation like chat completions — its tokens audited and priced, its
 * `max_output_tokens` the cap that rate limits and budgets reserve, refused in OpenAI's
 * error shape when a limit says so — and its bytes sent unchanged (no `include_usage`
 * rewrite: the Responses API always reports usage).
 */
import path from 'node:path';
import t from 'tap';
import OpenAI from 'openai';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../../helpers/outcome-recorder.js';
import { raw } from '../../helpers/anthropic.js';
import { auditLines, waitFor } from '../../filters/fixtures.js';
import { OpenAIMock } from '../../mocks/openai-mock.js';

const OPENAI_KEY = 'sk-openai-gateway-00000000000000';
const CLIENT_KEY = 'sk-client-should-never-leave-0000';
/** The mock's usage (1500 in, 1024 of them cached, 42 out) as the gateway counts it. */
const COUNTED = { inputTokens: 476, outputTokens: 42, cacheCreationTokens: 0, cacheReadTokens: 1024 };

const mock = await OpenAIMock.start({ apiKey: OPENAI_KEY });
t.teardown(() => mock.close());

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A gateway in front of the mock with auth, cost, rate limits, budgets, audit and the recorder. */
async function gateway(t: Teardown, limits: string, budget = '{}'): Promise<TestGateway> {
  return startGateway(
    t,
    `providers:
  openai: { api_key: ${OPENAI_KEY}, base_url: ${mock.url} }
filters:
  - name: auth
  - name: cost
  - name: rate-limit
  - name: budget
    config:
      users: ${budget}
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 10 }
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
rate_limits:
  default: ${limits}
workspaces:
  ws-1: { user: alice, project: p }
`,
  );
}

function sdk(gw: TestGateway): OpenAI {
  return new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${gw.url}/v1/openai/v1`, maxRetries: 0, defaultHeaders: { 'x-workspace-id': 'ws-1' } });
}

async function auditFor(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  const file = path.join(gw.dir, 'audit.log');
  await waitFor(() => auditLines(file).some((l) => l.request_id === requestId));
  return auditLines(file).find((l) => l.request_id === requestId)!;
}

t.test('non-streamed: a generation, its tokens audited and priced, its cap known, its bytes untouched', async (t) => {
  const gw = await gateway(t, '{ requests_per_minute: 100 }');
  const { data, response } = await sdk(gw).responses.create({ model: 'gpt-4o', input: 'Hello', max_output_tokens: 256 }).withResponse();
  t.equal(data.output_text, mock.text);
  t.equal(data.usage?.input_tokens, 1500, 'the answer reaches the client as OpenAI sent it');
  t.equal(mock.last!.url, '/v1/responses');
  t.same(mock.lastJson(), { model: 'gpt-4o', input: 'Hello', max_output_tokens: 256 }, 'nothing added to the body');
  const id = response.headers.get('x-request-id')!;
  const rec = await outcomeFor(id);
  t.equal(rec.kind, 'generation');
  t.equal(rec.model, 'gpt-4o');
  t.equal(rec.maxOutputTokens, 256, 'max_output_tokens is the cap');
  t.equal(rec.outcome.stream, false);
  t.same(rec.outcome.usage, COUNTED);
  t.equal(rec.outcome.error, undefined);
  const line = await auditFor(gw, id);
  t.match(line, { path: '/v1/openai/v1/responses', model: 'gpt-4o', tokens_in: 476, tokens_out: 42, cache_read_tokens: 1024 });
  // gpt-4o: $2.50 / MTok in, $1.25 cached, $10 out.
  t.ok(Math.abs(Number(line.cost_usd) - (476 * 2.5 + 1024 * 1.25 + 42 * 10) / 1e6) < 1e-9, `priced (${String(line.cost_usd)})`);
});

t.test('streamed: the SDK reads the typed events, the gateway counts response.completed', async (t) => {
  const gw = await gateway(t, '{ requests_per_minute: 100 }');
  const { data: stream, response } = await sdk(gw).responses.create({ model: 'gpt-4o', input: 'Hello', stream: true, max_output_tokens: 64 }).withResponse();
  let text = '';
  let last = '';
  for await (const event of stream) {
    if (event.type === 'response.output_text.delta') text += event.delta;
    last = event.type;
  }
  t.equal(text, mock.text);
  t.equal(last, 'response.completed');
  t.same(mock.lastJson(), { model: 'gpt-4o', input: 'Hello', stream: true, max_output_tokens: 64 }, 'no stream_options added');
  const id = response.headers.get('x-request-id')!;
  const rec = await outcomeFor(id);
  t.equal(rec.kind, 'generation');
  t.equal(rec.maxOutputTokens, 64);
  t.equal(rec.outcome.stream, true);
  t.same(rec.outcome.usage, COUNTED);
  t.equal(rec.outcome.error, undefined);
  t.match(await auditFor(gw, id), { stream: true, tokens_in: 476, tokens_out: 42, cache_read_tokens: 1024 });
});

t.test('a stream cut before response.completed is recorded as a stream error', async (t) => {
  const gw = await gateway(t, '{ requests_per_minute: 100 }');
  mock.cutResponseStreamAfter = 6;
  const res = await raw(gw.url, 'POST', '/v1/openai/v1/responses', { 'content-type': 'application/json', 'x-workspace-id': 'ws-1' }, JSON.stringify({ model: 'gpt-4o', input: 'Hello', stream: true }));
  t.equal(res.status, 200);
  t.notMatch(res.body.toString(), /response\.completed/);
  const rec = await outcomeFor(String(res.headers['x-request-id']));
  t.match(rec.outcome.error, { kind: 'stream_error', message: 'stream ended before response.completed' });
});

t.test('requests_per_minute: 1 holds: the second call is refused with a 429 in OpenAI shape', async (t) => {
  const gw = await gateway(t, '{ requests_per_minute: 1 }');
  const client = sdk(gw);
  const before = mock.requests.length;
  await client.responses.create({ model: 'gpt-4o', input: 'Hello' });
  const refused = await client.responses.create({ model: 'gpt-4o', input: 'Hello' }).catch((e: unknown) => e);
  t.type(refused, OpenAI.RateLimitError);
  t.equal((refused as InstanceType<typeof OpenAI.RateLimitError>).status, 429);
  t.match((refused as InstanceType<typeof OpenAI.RateLimitError>).error, { type: 'requests', code: 'rate_limit_exceeded' });
  t.equal(mock.requests.length, before + 1, 'the refused call never went upstream');
});

t.test('max_output_tokens is what a budget reserves: a cap the budget cannot hold is refused up front', async (t) => {
  const gw = await gateway(t, '{ requests_per_minute: 100 }', '{ alice: { daily_usd: 1 } }');
  const client = sdk(gw);
  const before = mock.requests.length;
  // 100,000 output tokens of gpt-4o at $10 / MTok are the whole dollar, before any input.
  const refused = await client.responses.create({ model: 'gpt-4o', input: 'write a long essay', max_output_tokens: 100000 }).catch((e: unknown) => e);
  t.type(refused, OpenAI.APIError);
  t.equal((refused as InstanceType<typeof OpenAI.APIError>).status, 403);
  t.match((refused as InstanceType<typeof OpenAI.APIError>).error, { type: 'insufficient_quota' });
  t.equal(mock.requests.length, before, 'nothing sent');
  const { response } = await client.responses.create({ model: 'gpt-4o', input: 'write a long essay', max_output_tokens: 1000 }).withResponse();
  t.equal(mock.requests.length, before + 1, 'a cap the budget holds goes through');
  t.match(await auditFor(gw, response.headers.get('x-request-id')!), { tokens_in: 476, tokens_out: 42 });
});

t.test('what the Responses API does besides creating stays auxiliary', async (t) => {
  const gw = await gateway(t, '{ requests_per_minute: 1 }');
  const h = { 'content-type': 'application/json', 'x-workspace-id': 'ws-1' };
  const statuses: number[] = [];
  for (const [method, p] of [['GET', '/v1/openai/v1/responses/resp_mock01'], ['POST', '/v1/openai/v1/responses/resp_mock01/cancel'], ['GET', '/v1/openai/v1/responses/resp_mock01/input_items']]) {
    const res = await raw(gw.url, method, p, h, method === 'POST' ? '{}' : undefined);
    statuses.push(res.status);
    t.equal((await outcomeFor(String(res.headers['x-request-id']))).kind, 'auxiliary', `${method} ${p}`);
  }
  t.notOk(statuses.includes(429), 'not counted against requests_per_minute');
});
