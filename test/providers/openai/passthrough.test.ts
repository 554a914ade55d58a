/**
 * The OpenAI pass-through under /v1/openai with the real `openai` SDK and raw HTTP:
 * credentials replaced, paths mapped safely, the one body rewrite and its hidden usage
 * chunk, usage read from JSON and SSE, upstream errors passed through unchanged.
 */
import t from 'tap';
import OpenAI, { type APIError } from 'openai';
import { startGateway } from '../../helpers/gateway.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { raw } from '../../helpers/anthropic.js';
import { CLIENT_KEY, OPENAI_KEY, startUnified } from '../../helpers/unified.js';

const setup = await startUnified(t);
const sdk = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${setup.gw.url}/v1/openai/v1`, maxRetries: 0, organization: 'org-client' });
const hello = [{ role: 'user' as const, content: 'Hello' }];

t.test('the SDK through /v1/openai/v1: key replaced, account headers dropped, usage counted', async (t) => {
  const { data, response } = await sdk.chat.completions.create({ model: 'gpt-4o', messages: hello, max_completion_tokens: 99 }).withResponse();
  t.equal(data.choices[0].message.content, setup.openai.text);
  const h = setup.openai.last!.headers;
  t.equal(h.authorization, `Bearer ${OPENAI_KEY}`);
  t.equal(h['openai-organization'], undefined, "the client's organization is not sent with the gateway's key");
  t.notOk(JSON.stringify(h).includes(CLIENT_KEY));
  t.equal(setup.openai.last!.url, '/v1/chat/completions');
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  t.equal(rec.outcome.provider, 'openai');
  t.equal(rec.kind, 'generation');
  t.equal(rec.maxOutputTokens, 99);
  t.same(rec.outcome.usage, { inputTokens: 476, outputTokens: 42, cacheCreationTokens: 0, cacheReadTokens: 1024 });
});

t.test('both caps sent: the larger is reserved, whichever the upstream reads', async (t) => {
  // Mistral reads max_tokens, OpenAI max_completion_tokens: the rate limiter and budgets
  // must not reserve the smaller when the upstream may generate up to the larger.
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` };
  const cases: Array<[string, string]> = [['/v1/openai/v1/chat/completions', 'gpt-4o'], ['/v1/chat/completions', 'mistral-large-latest']];
  for (const [path, model] of cases) {
    for (const caps of [{ max_completion_tokens: 10, max_tokens: 500 }, { max_completion_tokens: 500, max_tokens: 10 }]) {
      const res = await raw(setup.gw.url, 'POST', path, headers, JSON.stringify({ model, ...caps, messages: hello }));
      t.equal(res.status, 200);
      t.equal((await outcomeFor(String(res.headers['x-request-id']))).maxOutputTokens, 500, `${path} ${JSON.stringify(caps)}`);
    }
  }
});

t.test('streamed without include_usage: asked upstream, hidden from the client, counted', async (t) => {
  const body = '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hello"}]}';
  const res = await raw(setup.gw.url, 'POST', '/v1/openai/v1/chat/completions', { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` }, body);
  t.equal(res.status, 200);
  t.equal(setup.openai.last!.body.toString(), '{"stream_options":{"include_usage":true},' + body.slice(1), 'the one rewrite, nothing else changed');
  const text = res.body.toString();
  t.notMatch(text, /"choices":\[\]/, 'no usage-only chunk');
  t.match(text, /data: \[DONE\]\n\n$/);
  const rec = await outcomeFor(String(res.headers['x-request-id']));
  t.same(rec.outcome.usage, { inputTokens: 476, outputTokens: 42, cacheCreationTokens: 0, cacheReadTokens: 1024 });
});

t.test('streamed with include_usage: bytes untouched both ways', async (t) => {
  const body = '{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hello"}]}';
  const res = await raw(setup.gw.url, 'POST', '/v1/openai/chat/completions', { 'content-type': 'application/json' }, body);
  t.equal(setup.openai.last!.body.toString(), body);
  t.equal(setup.openai.last!.url, '/v1/chat/completions', 'bare chat/completions gets its /v1');
  t.match(res.body.toString(), /"choices":\[\],"usage":\{"prompt_tokens":1500/);
});

t.test('streamed text outside ASCII: spliced as sent, or re-serialised with its text intact', async (t) => {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` };
  const spliced = '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Résumé → ✓ 😀"}]}';
  t.equal((await raw(setup.gw.url, 'POST', '/v1/openai/v1/chat/completions', headers, spliced)).status, 200);
  t.equal(setup.openai.last!.body.toString(), '{"stream_options":{"include_usage":true},' + spliced.slice(1), 'the client bytes kept');
  const withOptions = { model: 'gpt-4o', stream: true, stream_options: { include_usage: false }, messages: [{ role: 'user', content: 'Résumé → ✓ 😀' }] };
  t.equal((await raw(setup.gw.url, 'POST', '/v1/openai/v1/chat/completions', headers, JSON.stringify(withOptions))).status, 200);
  t.same(JSON.parse(setup.openai.last!.body.toString()), { ...withOptions, stream_options: { include_usage: true } }, 'the text as sent, not its bytes as latin1');
});

t.test('upstream errors pass through unchanged', async (t) => {
  const error = { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } };
  setup.openai.nextError = { status: 429, headers: { 'retry-after': '20' }, body: error };
  const res = await raw(setup.gw.url, 'POST', '/v1/openai/v1/chat/completions', { 'content-type': 'application/json' }, JSON.stringify({ model: 'gpt-4o', messages: hello }));
  t.equal(res.status, 429);
  t.same(JSON.parse(res.body.toString()), error);
  t.equal(res.headers['retry-after'], '20');
  const e = await sdk.chat.completions.create({ model: 'gpt-4o', messages: hello }, { headers: {} }).catch((x: unknown) => x);
  t.notOk(e instanceof Error, 'next call succeeds');
});

t.test('traversal and unknown roots are refused in OpenAI shape before anything is sent', async (t) => {
  const before = setup.openai.requests.length;
  for (const path of ['/v1/openai/v1/../../admin', '/v1/openai/v1/%2e%2e/x', '/v1/openai/v1/a%2Fb']) {
    const res = await raw(setup.gw.url, 'GET', path);
    t.equal(res.status, 400, path);
    t.equal(JSON.parse(res.body.toString()).error.type, 'invalid_request_error');
  }
  t.equal((await raw(setup.gw.url, 'GET', '/v1/openai/dashboard')).status, 404);
  t.equal(setup.openai.requests.length, before);
});

t.test('non-chat calls pass through and are auxiliary', async (t) => {
  const list = await sdk.models.list();
  t.equal(list.data[0].id, 'gpt-4o');
  t.equal(setup.openai.last!.url, '/v1/models');
});

t.test('without a key: 503 in OpenAI shape on both routes, and not listed in /v1/models', async (t) => {
  const gw = await startGateway(t, 'providers:\n  openai:\n    api_key: ""\n    base_url: http://127.0.0.1:9\n');
  const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  const unified = await client.chat.completions.create({ model: 'gpt-4o', messages: hello }).catch((x: unknown) => x);
  t.type(unified, OpenAI.InternalServerError);
  t.equal((unified as APIError).status, 503);
  const direct = await raw(gw.url, 'POST', '/v1/openai/v1/chat/completions', { 'content-type': 'application/json' }, '{"model":"gpt-4o","messages":[]}');
  t.equal(direct.status, 503);
  t.equal(JSON.parse(direct.body.toString()).error.type, 'server_error');
  t.same((await client.models.list()).data, []);
});
