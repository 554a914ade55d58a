/**
 * How the unified endpoint picks a provider (model patterns, aliases, rules, X-Provider,
 * pinned routes), a Mistral-shaped provider from configuration alone, /v1/models, config
 * errors, and the added time to first byte of the streaming translation.
 */
import t from 'tap';
import OpenAI from 'openai';
import { request } from 'undici';
import { outcomeFor } from '../helpers/outcome-recorder.js';
import { call } from '../helpers/http.js';
import { startGateway } from '../helpers/gateway.js';
import { ANTHROPIC_KEY, MISTRAL_KEY, startUnified } from '../helpers/unified.js';
import { ConfigError } from '../../core/index.js';

const setup = await startUnified(t, `routes:
  - name: pinned
    match: { path: /team/openai/chat/completions }
    mode: unified
    provider: openai
`);
const client = setup.client();
const hello = [{ role: 'user' as const, content: 'Hello' }];

async function served(model: string, headers: Record<string, string> = {}): Promise<{ provider: string | undefined; upstreamModel: unknown }> {
  const before = { a: setup.anthropic.requests.length, o: setup.openai.requests.length, m: setup.mistral.requests.length };
  const { response } = await setup.client(headers).chat.completions.create({ model, messages: hello }).withResponse();
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  const hit = setup.anthropic.requests.length > before.a ? setup.anthropic : setup.openai.requests.length > before.o ? setup.openai : setup.mistral.requests.length > before.m ? setup.mistral : undefined;
  return { provider: rec.outcome.provider, upstreamModel: hit ? JSON.parse(hit.last!.body.toString()).model : undefined };
}

t.test('routing by model: providers\' default patterns, listed models, aliases and rules', async (t) => {
  t.same(await served('claude-opus-4-1'), { provider: 'anthropic', upstreamModel: 'claude-opus-4-1' });
  t.same(await served('claude-3-7-sonnet-latest'), { provider: 'anthropic', upstreamModel: 'claude-3-7-sonnet-latest' }, 'claude-* pattern');
  t.same(await served('gpt-4.1-mini'), { provider: 'openai', upstreamModel: 'gpt-4.1-mini' });
  t.same(await served('o3-pro'), { provider: 'openai', upstreamModel: 'o3-pro' }, 'o3* pattern');
  t.same(await served('claude-sonnet'), { provider: 'anthropic', upstreamModel: 'claude-sonnet-4-5' }, 'alias renames the model');
  t.same(await served('fast'), { provider: 'openai', upstreamModel: 'gpt-4o-mini' }, 'alias to OpenAI');
  t.same(await served('house-model-1'), { provider: 'mistral', upstreamModel: 'house-model-1' }, 'a rule');
  t.same(await served('codestral-2501'), { provider: 'mistral', upstreamModel: 'codestral-2501' }, 'model_patterns of a configured entry');
});

t.test('X-Provider overrides the table, by instance name or by a unique type', async (t) => {
  t.same(await served('claude-sonnet-4-5', { 'X-Provider': 'openai' }), { provider: 'openai', upstreamModel: 'claude-sonnet-4-5' });
  t.same(await served('some-local-model', { 'X-Provider': 'anthropic' }), { provider: 'anthropic', upstreamModel: 'some-local-model' });
  t.same(await served('claude-sonnet', { 'X-Provider': 'anthropic' }), { provider: 'anthropic', upstreamModel: 'claude-sonnet-4-5' }, 'an alias for that provider still applies');
  const ambiguous = await setup.client({ 'X-Provider': 'openai-compatible' }).chat.completions.create({ model: 'gpt-4o', messages: hello }).catch((e: unknown) => e);
  t.type(ambiguous, OpenAI.BadRequestError, 'unknown X-Provider is a 400');
  t.match((ambiguous as Error).message, /no provider is named "openai-compatible" \(configured: anthropic, openai, mistral, echo\)/);
});

t.test('the seed example: X-Provider and X-Workspace-ID with curl-style JSON', async (t) => {
  const res = await call(`${setup.gw.url}/v1/chat/completions`, {
    headers: { 'X-Workspace-ID': 'ws-abc123', 'X-Provider': 'anthropic' },
    body: JSON.stringify({ model: 'claude-3-sonnet-20240229', messages: [{ role: 'user', content: 'Hello, Claude!' }], max_tokens: 1024, temperature: 0.7 }),
  });
  t.equal(res.status, 200);
  t.equal(res.json<{ object: string }>().object, 'chat.completion');
  t.notOk(setup.anthropic.last!.headers['x-workspace-id'], 'the identity header stays at the gateway');
  t.notOk(setup.anthropic.last!.headers['x-provider']);
});

t.test('a Mistral-shaped provider from configuration alone', async (t) => {
  const { data, response } = await client.chat.completions.create({ model: 'mistral-large-latest', messages: hello, stream: true }).withResponse();
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const c of data) chunks.push(c);
  t.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), setup.mistral.text);
  t.equal(setup.mistral.last!.headers.authorization, `Bearer ${MISTRAL_KEY}`);
  t.equal(setup.mistral.lastJson().stream_options, undefined, 'stream_include_usage: false adds nothing');
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  t.equal(rec.outcome.provider, 'mistral');
  t.same(rec.outcome.usage, { inputTokens: 476, outputTokens: 42, cacheCreationTokens: 0, cacheReadTokens: 1024 }, 'usage read from the finish chunk');
  const providers = await call(`${setup.gw.url}/v1/providers`);
  const entry = providers.json<{ providers: Array<{ name: string; type: string; route_prefix: string }> }>().providers.find((p) => p.name === 'mistral');
  t.same({ type: entry?.type, prefix: entry?.route_prefix }, { type: 'openai', prefix: '/v1/mistral' }, 'its own pass-through prefix');
  const direct = await call(`${setup.gw.url}/v1/mistral/v1/chat/completions`, { body: JSON.stringify({ model: 'mistral-large-latest', messages: hello }) });
  t.equal(direct.status, 200, 'pass-through under /v1/mistral');
});

t.test('a route pinned to a provider ignores the model table', async (t) => {
  const res = await call(`${setup.gw.url}/team/openai/chat/completions`, { body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: hello }), headers: { 'X-Provider': 'anthropic' } });
  t.equal(res.status, 200);
  t.equal(setup.openai.lastJson().model, 'claude-sonnet-4-5');
});

t.test('GET /v1/models lists every chat provider\'s models and the aliases', async (t) => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id);
  for (const id of ['claude-sonnet-5-5', 'gpt-4o', 'mistral-large-latest', 'claude-sonnet', 'fast']) t.ok(ids.includes(id), id);
  t.notOk(ids.includes('echo-1'), 'echo cannot chat');
  t.equal(list.data.find((m) => m.id === 'claude-sonnet')?.owned_by, 'anthropic');
  t.equal(new Set(ids).size, ids.length, 'no duplicates');
  const one = await client.models.retrieve('gpt-4o');
  t.same({ id: one.id, object: one.object, owned_by: one.owned_by }, { id: 'gpt-4o', object: 'model', owned_by: 'openai' });
  const missing = await client.models.retrieve('nope').catch((e: unknown) => e);
  t.type(missing, OpenAI.NotFoundError);
});

t.test('unified requests that fail before a provider still get one outcome, in OpenAI shape', async (t) => {
  const res = await call(`${setup.gw.url}/v1/chat/completions`, { body: '{"model": ' });
  t.equal(res.status, 400);
  t.equal(res.json<{ error: { type: string } }>().error.type, 'invalid_request_error');
  const rec = await outcomeFor(String(res.headers['x-request-id']));
  t.equal(rec.outcome.status, 400);
  t.equal(rec.outcome.provider, undefined);
  const get = await call(`${setup.gw.url}/v1/chat/completions`);
  t.equal(get.status, 405);
});

t.test('config errors name the key', async (t) => {
  const bad = startGateway(t, 'providers:\n  anthropic: { api_key: x }\nmodels:\n  aliases:\n    s: { provider: nope, model: m }\n  rules:\n    - { match: "x-*", provider: gone }\n');
  const err = await bad.catch((e: unknown) => e);
  t.type(err, ConfigError);
  const text = (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`).join('\n');
  t.match(text, /models\.aliases\.s\.provider: alias "s" names provider "nope"/);
  t.match(text, /models\.rules\[0\]\.provider: rule "x-\*" names provider "gone"/);
  const noChat = await startGateway(t, 'providers:\n  echo: {}\nroutes:\n  - { name: u, match: { path: /chat }, mode: unified }\n').catch((e: unknown) => e);
  t.match((noChat as ConfigError).issues[0].message, /needs a provider that serves chat completions/);
});

t.test('added time to first byte: streaming translation vs pass-through (reported, not asserted)', async (t) => {
  setup.anthropic.eventDelayMs = 5;
  t.teardown(() => void (setup.anthropic.eventDelayMs = 0));
  const ttfb = async (url: string, body: unknown, headers: Record<string, string>): Promise<number> => {
    const start = performance.now();
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    const first = performance.now() - start;
    for (let r = await it.next(); !r.done; r = await it.next());
    return first;
  };
  const runs = 30;
  const pass: number[] = [];
  const unified: number[] = [];
  for (let i = 0; i < runs + 5; i++) {
    const p = await ttfb(`${setup.gw.url}/v1/claude/v1/messages`, { model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: hello }, { 'x-api-key': ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' });
    const u = await ttfb(`${setup.gw.url}/v1/chat/completions`, { model: 'claude-sonnet-4-5', stream: true, messages: hello }, {});
    if (i >= 5) (pass.push(p), unified.push(u)); // the first few warm pools and JIT
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  t.comment(`TTFB median over ${runs}: pass-through ${median(pass).toFixed(3)} ms, unified translation ${median(unified).toFixed(3)} ms, added ${(median(unified) - median(pass)).toFixed(3)} ms`);
  t.ok(median(unified) > 0);
});
