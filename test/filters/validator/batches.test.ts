/**
 * A batch create holds generations the validator must judge as it judges each alone:
 * `POST /v1/messages/batches` is auxiliary (its tokens are known only when the batch ends),
 * yet a user allowed only Haiku at 1024 tokens must not run Opus at 64000 as a batch.
 * OpenAI's batches keep their requests in an uploaded file the gateway cannot read: under a
 * model allowlist they are refused, as nothing could keep it.
 */
import t, { type Test } from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { AnthropicMock } from '../../mocks/anthropic-mock.js';
import { OpenAIMock } from '../../mocks/openai-mock.js';

interface Answer {
  status: number;
  headers: Headers;
  error?: { type: string; message: string; param?: string | null; code?: string | null };
}

async function post(url: string, body: unknown, workspace = 'ws-a'): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': workspace }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, error: res.status === 200 ? undefined : (JSON.parse(text) as { error: Answer['error'] }).error };
}

function yaml(providers: string, validator: string): string {
  return `server: { port: 0 }
providers:
${providers}
filters:
  - name: auth
    config: { source: static }
  - name: validator
    config: ${validator}
workspaces:
  ws-a: { user: alice }
  ws-b: { user: bob }
`;
}

async function anthropic(t: Test, validator: string): Promise<{ mock: AnthropicMock; url: string }> {
  const mock = await AnthropicMock.start({ apiKey: 'k' });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, yaml(`  anthropic: { api_key: k, base_url: "${mock.url}" }`, validator));
  return { mock, url: `${gw.url}/v1/claude/v1/messages/batches` };
}

const params = (extra: Record<string, unknown> = {}) => ({ model: 'claude-haiku-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Summarise this.' }], ...extra });
const batch = (...each: Array<Record<string, unknown>>) => ({ requests: each.map((p, i) => ({ custom_id: `r${i}`, params: p })) });

t.test('Anthropic: each request of a batch is held to the allowlist and max_tokens, named by its place', async (t) => {
  const { mock, url } = await anthropic(t, '{ models: ["claude-haiku-*"], max_tokens: 1024 }');
  const model = await post(url, batch(params(), params({ model: 'claude-opus-4-1' })));
  t.equal(model.status, 403, 'a model outside the allowlist');
  t.equal(model.error?.type, 'permission_error', "in Anthropic's dialect");
  t.equal(model.error?.message, 'requests[1].params.model: "claude-opus-4-1" is not allowed for this gateway');

  const cap = await post(url, batch(params(), params(), params({ max_tokens: 64000 })));
  t.equal(cap.status, 400, 'a cap above the maximum');
  t.equal(cap.error?.type, 'invalid_request_error');
  t.equal(cap.error?.message, 'requests[2].params.max_tokens: 64000 is above the maximum of 1024');

  const both = await post(url, batch(params({ model: 'claude-opus-4-1', max_tokens: 64000 })));
  t.equal(both.status, 403, "the tester's batch: Opus at 64000 tokens");
  t.equal(mock.requests.length, 0, 'nothing reached Anthropic');

  const body = JSON.stringify(batch(params(), params({ model: 'claude-haiku-4-5-20251001', max_tokens: 1024 })));
  const ok = await post(url, body);
  t.equal(ok.status, 200, 'a batch within every rule');
  t.equal(mock.last?.body.toString(), body, 'forwarded byte for byte');
});

t.test('Anthropic: a large batch (read by pick, not parse) and a model outside ASCII', async (t) => {
  const { mock, url } = await anthropic(t, '{ models: ["claude-haiku-*"], max_tokens: 1024 }');
  const many = Array.from({ length: 50 }, () => params({ messages: [{ role: 'user', content: 'Résumé → ✓ '.repeat(20) }] }));
  many[37] = params({ model: 'claude-opus-✓' });
  const r = await post(url, batch(...many));
  t.equal(r.status, 403);
  t.equal(r.error?.message, 'requests[37].params.model: "claude-opus-✓" is not allowed for this gateway', 'the model in its characters');
  many[37] = params({ max_tokens: 1025 });
  t.equal((await post(url, batch(...many))).error?.message, 'requests[37].params.max_tokens: 1025 is above the maximum of 1024');
  many[37] = params();
  t.equal((await post(url, batch(...many))).status, 200);
  t.equal(mock.requests.length, 1, 'only the good batch forwarded');
});

t.test("Anthropic: the provider's and the user's limits apply, as to a single request on the route", async (t) => {
  const { mock, url } = await anthropic(t, `
      providers:
        anthropic: { models: ["claude-sonnet-*", "claude-haiku-*"], max_tokens: 8192 }
      users:
        bob: { models: ["claude-haiku-*"], max_prompt_chars: 100 }`);
  t.equal((await post(url, batch(params({ model: 'claude-sonnet-4-5', max_tokens: 8192 })))).status, 200, 'alice: Sonnet at 8192');
  const opus = await post(url, batch(params({ model: 'claude-opus-4-1' })));
  t.equal(opus.error?.message, 'requests[0].params.model: "claude-opus-4-1" is not allowed for provider "anthropic"');
  const sonnet = await post(url, batch(params(), params({ model: 'claude-sonnet-4-5' })), 'ws-b');
  t.equal(sonnet.error?.message, 'requests[1].params.model: "claude-sonnet-4-5" is not allowed for user "bob"');
  const long = await post(url, batch(params(), params({ system: 's'.repeat(90) })), 'ws-b');
  t.equal(long.status, 400, "bob's prompt limit");
  t.equal(long.error?.message, 'requests[1].params.messages: the prompt is 105 characters, above the maximum of 100');
  t.equal(mock.requests.length, 1, 'only the first forwarded');
});

t.test('Anthropic clamp: every cap above the maximum is lowered in every request, the rest as sent', async (t) => {
  const { mock, url } = await anthropic(t, '{ max_tokens: 1024, max_tokens_action: clamp, models: ["claude-*"] }');
  const sent = batch(params({ max_tokens: 64000 }), params({ max_tokens: 10 }), params({ model: 'claude-opus-4-1', max_tokens: 2000, system: 'Résumé ✓' }));
  const r = await post(url, sent);
  t.equal(r.status, 200);
  t.equal(r.headers.get('x-gateway-max-tokens-clamped'), '64000->1024', 'the largest cap lowered');
  const forwarded = JSON.parse(mock.last!.body.toString()) as ReturnType<typeof batch>;
  t.same(forwarded.requests.map((q) => (q.params as { max_tokens: number }).max_tokens), [1024, 10, 1024], 'each over the maximum lowered, the one within kept');
  sent.requests[0].params.max_tokens = 1024;
  sent.requests[2].params.max_tokens = 1024;
  t.same(forwarded, sent, 'nothing else changed: ids, models, prompts');
  const forbidden = await post(url, batch(params({ model: 'gpt-4o', max_tokens: 64000 })));
  t.equal(forbidden.status, 403, 'clamping does not pass a forbidden model');
});

t.test('Anthropic: with no rule that reads a batch, it is forwarded as sent; other batch calls pass', async (t) => {
  const { mock, url } = await anthropic(t, '{ max_body_bytes: 100000 }');
  const body = JSON.stringify(batch(params({ model: 'claude-opus-4-1', max_tokens: 64000 })));
  t.equal((await post(url, body)).status, 200);
  t.equal(mock.last?.body.toString(), body);
  const list = await fetch(url, { headers: { 'x-workspace-id': 'ws-a' } });
  await list.text();
  t.equal(mock.last?.method, 'GET', 'listing batches is forwarded');
});

async function openai(t: Test, validator: string): Promise<{ mock: OpenAIMock; url: string }> {
  const mock = await OpenAIMock.start({ apiKey: 'k' });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, yaml(`  openai: { api_key: k, base_url: "${mock.url}" }
  mistral: { type: openai, api_key: k, base_url: "${mock.url}", stream_include_usage: false }`, validator));
  return { mock, url: gw.url };
}

const fileBatch = (endpoint?: string) => ({ input_file_id: 'file-abc', completion_window: '24h', ...(endpoint ? { endpoint } : {}) });

t.test('OpenAI: under a model allowlist a batch of generations is refused, saying why', async (t) => {
  const { mock, url } = await openai(t, `
      providers:
        openai: { models: ["gpt-4o-mini"] }`);
  for (const endpoint of ['/v1/chat/completions', '/v1/responses', '/v1/completions', undefined]) {
    const r = await post(`${url}/v1/openai/v1/batches`, fileBatch(endpoint));
    t.equal(r.status, 403, `endpoint ${endpoint}: refused`);
    t.equal(r.error?.type, 'invalid_request_error', "in OpenAI's dialect (a 403 there is PermissionDeniedError)");
    t.equal(r.error?.param, 'input_file_id');
    t.match(r.error?.message, /^input_file_id: a batch's requests are in an uploaded file the gateway cannot read, so their models cannot be checked against the models allowed for provider "openai"/);
  }
  t.equal(mock.requests.length, 0, 'nothing reached OpenAI');
  t.equal((await post(`${url}/v1/openai/v1/batches`, fileBatch('/v1/embeddings'))).status, 200, 'a batch of embeddings generates nothing: forwarded');
  t.equal((await post(`${url}/v1/mistral/v1/batches`, fileBatch('/v1/chat/completions'))).status, 200, "another provider, without an allowlist: forwarded");
  t.equal(mock.requests.length, 2);
});

t.test('OpenAI: with no model allowlist a batch is forwarded as today', async (t) => {
  const { mock, url } = await openai(t, '{ max_tokens: 1024 }');
  const r = await post(`${url}/v1/openai/v1/batches`, fileBatch('/v1/chat/completions'));
  t.equal(r.status, 200);
  t.equal(mock.last?.url, '/v1/batches');
});
