/**
 * A generation that names no model (and no agent) where models are restricted is refused
 * with a 400 in the route's dialect: some OpenAI-compatible servers run a default model
 * when none is named, so the model that would run is unknown. It used to pass every
 * allowlist. Batches alike: an inline request naming none, in a job naming none. Without
 * an allowlist such requests are forwarded as before. The unified endpoint requires a
 * model already; Gemini and Bedrock name it in the path.
 */
import t, { type Test } from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { AnthropicMock } from '../../mocks/anthropic-mock.js';
import { OpenAIMock } from '../../mocks/openai-mock.js';

interface Answer {
  status: number;
  body: { type?: string; error?: { type: string; message: string; param?: string | null } };
}

async function post(url: string, body: unknown): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-a', 'anthropic-version': '2023-06-01' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? (JSON.parse(text) as Answer['body']) : {} };
}

async function gateway(t: Test, validator: string) {
  const vllm = await OpenAIMock.start({ apiKey: 'k' });
  const anthropic = await AnthropicMock.start({ apiKey: 'a' });
  t.teardown(() => Promise.all([vllm.close(), anthropic.close()]));
  const gw = await startGateway(t, `server: { port: 0 }
providers:
  vllm: { type: openai, api_key: k, base_url: "${vllm.url}", stream_include_usage: false, models: [mistral-small-latest] }
  anthropic: { api_key: a, base_url: "${anthropic.url}" }
filters:
  - name: auth
    config: { source: static }
  - name: validator
    config: ${validator}
workspaces:
  ws-a: { user: alice }
`);
  return { vllm, anthropic, url: gw.url };
}

const messages = [{ role: 'user', content: 'hi' }];
const MESSAGE = 'model: a model must be named: only some models are allowed for this gateway, and without one the upstream would run one of its own choosing';

t.test('under an allowlist: refused in the dialect, naming the field, nothing forwarded', async (t) => {
  // No request schema: the Anthropic route would otherwise refuse a missing model by it.
  const { vllm, anthropic, url } = await gateway(t, '{ models: ["mistral-small-*", "claude-*"], schemas: {} }');
  const chat = await post(`${url}/v1/vllm/v1/chat/completions`, { messages, max_tokens: 10 });
  t.equal(chat.status, 400, 'a chat completion');
  t.equal(chat.body.error?.message, MESSAGE);
  t.equal(chat.body.error?.param, 'model');
  t.equal(chat.body.error?.type, 'invalid_request_error', "in OpenAI's shape");
  for (const [path, body] of [
    ['/v1/vllm/v1/responses', { prompt: { id: 'pmpt_123' }, input: 'hi' }],
    ['/v1/vllm/v1/fim/completions', { prompt: 'def f(', suffix: 'return 1' }],
    ['/v1/vllm/v1/agents/completions', { messages }],
    ['/v1/vllm/v1/conversations', { inputs: 'hi' }],
  ] as const) {
    const r = await post(url + path, body);
    t.equal(r.status, 400, path);
    t.equal(r.body.error?.message, MESSAGE, path);
  }
  const claude = await post(`${url}/v1/claude/v1/messages`, { messages, max_tokens: 10 });
  t.equal(claude.status, 400, 'an Anthropic message');
  t.equal(claude.body.type, 'error', "in Anthropic's shape");
  t.equal(claude.body.error?.message, MESSAGE);

  const job = await post(`${url}/v1/vllm/v1/batch/jobs`, { endpoint: '/v1/chat/completions', requests: [{ custom_id: '0', body: { messages } }] });
  t.equal(job.status, 400, 'a batch job naming no model, nor its request');
  t.equal(job.body.error?.message, MESSAGE.replace('model:', 'requests[0].body.model:'));
  t.equal(vllm.requests.length + anthropic.requests.length, 0, 'nothing forwarded');

  const unified = await post(`${url}/v1/chat/completions`, { messages });
  t.equal(unified.status, 400, 'the unified endpoint requires a model of its own');
  t.equal(unified.body.error?.param, 'model');

  t.equal((await post(`${url}/v1/vllm/v1/chat/completions`, { model: 'mistral-small-latest', messages })).status, 200, 'a named, allowed model passes');
  const named = await post(`${url}/v1/vllm/v1/batch/jobs`, { endpoint: '/v1/chat/completions', requests: [{ custom_id: '0', body: { model: 'mistral-small-latest', messages } }] });
  t.equal(named.status, 200, "a job whose request names an allowed model");
});

t.test('without an allowlist: forwarded as before', async (t) => {
  const { vllm, url } = await gateway(t, '{ max_tokens: 100, schemas: {} }');
  t.equal((await post(`${url}/v1/vllm/v1/chat/completions`, { messages, max_tokens: 10 })).status, 200, "the server's default model runs");
  t.equal(vllm.requests.length, 1);
  t.equal((await post(`${url}/v1/vllm/v1/chat/completions`, { messages, max_tokens: 1000 })).status, 400, 'the other rules still hold');
});
