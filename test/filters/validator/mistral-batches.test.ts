/**
 * Mistral's batch jobs (`POST /v1/batch/jobs` on an OpenAI-type entry) are held to the
 * validator's rules: the job-level `model` as a single request's, each inline request
 * (`requests[i].body`) for its own model, caps and prompt (caps clamped in place when so
 * configured), and requests in uploaded files (`input_files`) refused under a model
 * allowlist, as OpenAI's batches are. Jobs of endpoints that generate nothing pass.
 */
import t, { type Test } from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { OpenAIMock } from '../../mocks/openai-mock.js';

interface Answer {
  status: number;
  headers: Headers;
  error?: { type: string; message: string; param?: string | null };
}

async function post(url: string, body: unknown): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-a' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, error: res.status === 200 ? undefined : (JSON.parse(text) as { error: Answer['error'] }).error };
}

async function gateway(t: Test, validator: string): Promise<{ mock: OpenAIMock; url: string }> {
  const mock = await OpenAIMock.start({ apiKey: 'k' });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `server: { port: 0 }
providers:
  mistral: { type: openai, api_key: k, base_url: "${mock.url}", stream_include_usage: false }
filters:
  - name: auth
    config: { source: static }
  - name: validator
    config: ${validator}
workspaces:
  ws-a: { user: alice }
`);
  return { mock, url: `${gw.url}/v1/mistral/v1/batch/jobs` };
}

const chat = (extra: Record<string, unknown> = {}) => ({ max_tokens: 100, messages: [{ role: 'user', content: 'What is the best French cheese?' }], ...extra });
const job = (requests: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) => ({
  endpoint: '/v1/chat/completions',
  model: 'mistral-small-latest',
  requests: requests.map((body, i) => ({ custom_id: String(i), body })),
  ...extra,
});

t.test("the job's model and each inline request's model and cap, named by their place", async (t) => {
  const { mock, url } = await gateway(t, '{ models: ["mistral-small-*", "codestral-*"], max_tokens: 1024 }');
  const large = await post(url, job([chat()], { model: 'mistral-large-latest' }));
  t.equal(large.status, 403, "the job's model");
  t.equal(large.error?.message, 'model: "mistral-large-latest" is not allowed for this gateway');
  t.equal(large.error?.param, 'model');
  const own = await post(url, job([chat(), chat({ model: 'mistral-large-latest' })]));
  t.equal(own.error?.message, 'requests[1].body.model: "mistral-large-latest" is not allowed for this gateway', "a request's own model");
  const cap = await post(url, job([chat({ max_tokens: 64000 })]));
  t.equal(cap.status, 400);
  t.equal(cap.error?.message, 'requests[0].body.max_tokens: 64000 is above the maximum of 1024');
  const fim = await post(url, job([{ prompt: 'def f(', suffix: 'return 1', max_tokens: 5000 }], { endpoint: '/v1/fim/completions', model: 'codestral-latest' }));
  t.equal(fim.error?.message, 'requests[0].body.max_tokens: 5000 is above the maximum of 1024', 'a FIM job generates too');
  t.equal(mock.requests.length, 0, 'nothing reached Mistral');

  const body = JSON.stringify(job([chat(), chat({ model: 'mistral-small-2503' })]));
  t.equal((await post(url, body)).status, 200, 'a job within every rule');
  t.equal(mock.last?.body.toString(), body, 'forwarded byte for byte');
});

t.test('requests in uploaded files: refused under an allowlist (the job model judged first)', async (t) => {
  const { mock, url } = await gateway(t, '{ models: ["mistral-small-*"] }');
  const files = { input_files: ['6f1e3b9a-0000-4000-8000-000000000001'], endpoint: '/v1/chat/completions', model: 'mistral-small-latest' };
  const r = await post(url, files);
  t.equal(r.status, 403);
  t.equal(r.error?.param, 'input_files');
  t.match(r.error?.message, /^input_files: a batch's requests are in an uploaded file the gateway cannot read, so their models cannot be checked against the models allowed for this gateway/);
  t.equal((await post(url, { ...files, model: 'mistral-large-latest' })).error?.message, 'model: "mistral-large-latest" is not allowed for this gateway');
  const mixed = await post(url, job([chat()], { input_files: ['6f1e3b9a-0000-4000-8000-000000000001'] }));
  t.equal(mixed.error?.param, 'input_files', 'inline requests beside a file: the file still cannot be read');
  t.equal((await post(url, '{"endpoint": ')).status, 403, 'a body that is no JSON: refused too, it could name a generating endpoint');
  t.equal(mock.requests.length, 0);

  t.equal((await post(url, job([chat()], { input_files: [] }))).status, 200, 'an empty file list beside inline requests: judged inline');
  for (const endpoint of ['/v1/embeddings', '/v1/moderations', '/v1/chat/moderations', '/v1/ocr', '/v1/classifications']) {
    t.equal((await post(url, { ...files, endpoint, model: 'mistral-embed' })).status, 200, `${endpoint} generates nothing: forwarded`);
  }
  t.equal(mock.requests.length, 6);
});

t.test('clamp lowers each inline cap in place; with no allowlist a file job is forwarded', async (t) => {
  const { mock, url } = await gateway(t, '{ max_tokens: 1024, max_tokens_action: clamp }');
  const sent = job([chat({ max_tokens: 64000 }), chat({ max_tokens: 10, messages: [{ role: 'user', content: 'Résumé ✓' }] }), chat({ max_completion_tokens: 2000 })]);
  const r = await post(url, sent);
  t.equal(r.status, 200);
  t.equal(r.headers.get('x-gateway-max-tokens-clamped'), '64000->1024');
  const forwarded = JSON.parse(mock.last!.body.toString()) as typeof sent;
  const expected = structuredClone(sent);
  expected.requests[0].body.max_tokens = 1024;
  expected.requests[2].body.max_completion_tokens = 1024;
  t.same(forwarded, expected, 'each cap over the maximum lowered, the rest as sent');
  const files = await post(url, { input_files: ['6f1e3b9a-0000-4000-8000-000000000001'], endpoint: '/v1/chat/completions', model: 'mistral-large-latest' });
  t.equal(files.status, 200, 'no allowlist: nothing to refuse a file for');
});

t.test("an agent's job (agent_id, no model) and requests naming their own agent: judged as agent:<id>", async (t) => {
  const { mock, url } = await gateway(t, '{ models: ["mistral-small-*", "agent:ag_listed"] }');
  const agentJob = (agent: string, requests: Array<Record<string, unknown>>) => {
    const { model: _m, ...rest } = job(requests, { agent_id: agent });
    return rest;
  };
  const other = await post(url, agentJob('ag_other', [chat()]));
  t.equal(other.status, 403, "the job's agent, outside the allowlist");
  t.equal(other.error?.message, 'agent_id: "agent:ag_other" is not allowed for this gateway');
  t.equal(other.error?.param, 'agent_id');
  const conversations = { endpoint: '/v1/conversations', model: 'mistral-small-latest', requests: [{ custom_id: '0', body: { inputs: 'hi' } }, { custom_id: '1', body: { agent_id: 'ag_other', inputs: 'hi' } }] };
  const own = await post(url, conversations);
  t.equal(own.error?.message, 'requests[1].body.agent_id: "agent:ag_other" is not allowed for this gateway', "a request's own agent");
  t.equal(mock.requests.length, 0, 'neither reached Mistral');

  t.equal((await post(url, agentJob('ag_listed', [chat()]))).status, 200, 'an agent the allowlist names');
  conversations.requests[1].body.agent_id = 'ag_listed';
  t.equal((await post(url, conversations)).status, 200, 'a request naming a listed agent');
  t.equal(mock.requests.length, 2);
});
