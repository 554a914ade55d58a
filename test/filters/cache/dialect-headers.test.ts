/**
 * The headers of a dialect's API that a pass-through forwards and that change the answer
 * (`Dialect.cacheKeyHeaders`: Anthropic's `anthropic-version` and `anthropic-beta`,
 * OpenAI's `OpenAI-Beta`) are part of the key whatever `vary_headers` says. Before, they
 * counted only through `vary_headers`, so a config that replaced the list (or OpenAI's
 * beta header, never in it) let answers for different API versions and betas be shared.
 * A key without them is what it was before.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { ScriptedUpstream } from '../../proof/support/upstream.js';
import { cacheKey, keyedHeaders } from '../../../filters/cache/key.js';
import { ask, startCache, upstreamCalls } from './setup.js';

for (const cache of [{ vary_headers: [] }, { vary_headers: ['x-team'], scope: 'shared' }]) {
  t.test(`Anthropic: anthropic-version and anthropic-beta are part of the key (${JSON.stringify(cache)})`, async (t) => {
    const s = await startCache(t, { cache });
    const send = (headers: Record<string, string>) => ask(s, { user: 'alice', workspace: 'ws-1', headers });
    const first = await send({ 'anthropic-beta': 'prompt-caching-2024-07-31' });
    t.equal(first.status, 200, first.text);
    t.equal(first.headers.get('x-cache'), 'MISS');
    t.equal((await send({ 'anthropic-beta': 'output-128k-2025-02-19' })).headers.get('x-cache'), 'MISS', 'another beta: not the first answer');
    t.equal(s.mock.last?.headers['anthropic-beta'], 'output-128k-2025-02-19', 'and the beta reached Anthropic');
    t.equal((await send({})).headers.get('x-cache'), 'MISS', 'no beta at all');
    t.equal((await send({ 'anthropic-version': '2023-01-01' })).headers.get('x-cache'), 'MISS', 'another API version');
    t.equal(upstreamCalls(s), 4);
    t.equal((await send({ 'anthropic-beta': 'prompt-caching-2024-07-31' })).headers.get('x-cache'), 'HIT', 'the same beta again');
    t.equal((await send({})).headers.get('x-cache'), 'HIT', 'and none again');
    t.equal(upstreamCalls(s), 4);
  });
}

t.test('OpenAI: OpenAI-Beta is part of the key (it is in no vary_headers list)', async (t) => {
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  const gw = await startGateway(t, `providers:
  openai: { api_key: sk-a, base_url: ${up.url} }
filters:
  - name: auth
  - name: cache
workspaces:
  ws-1: { user: alice }
`);
  const send = async (headers: Record<string, string>) => {
    const res = await fetch(`${gw.url}/v1/openai/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1', 'x-gateway-cache': 'on', ...headers }, body: JSON.stringify({ model: 'gpt-4o', temperature: 0, messages: [{ role: 'user', content: 'hi' }] }) });
    await res.text();
    return res.headers.get('x-cache');
  };
  t.equal(await send({}), 'MISS');
  t.equal(await send({ 'OpenAI-Beta': 'assistants=v2' }), 'MISS', 'a beta asked for: not the answer without it');
  t.equal(up.seen.at(-1)?.headers['openai-beta'], 'assistants=v2', 'and the header reached OpenAI');
  t.equal(await send({ 'OpenAI-Beta': 'assistants=v1' }), 'MISS', 'another beta');
  t.equal(await send({ 'OpenAI-Beta': 'assistants=v2' }), 'HIT');
  t.equal(await send({}), 'HIT');
  t.equal(up.seen.length, 3);
});

t.test('a key without the dialect headers is the key it always was', async (t) => {
  const base = { scope: 'shared', provider: 'anthropic', path: '/v1/messages', varyHeaders: [], keyedHeaders: keyedHeaders(), body: { model: 'm', temperature: 0 } };
  const dialectHeaders = ['anthropic-version', 'anthropic-beta'];
  const headers = { 'content-type': 'application/json', 'x-amzn-bedrock-trace': 'ENABLED' };
  t.equal(cacheKey({ ...base, headers, dialectHeaders }), cacheKey({ ...base, headers }), 'absent: no trace of them in the key');
  const versioned = cacheKey({ ...base, headers: { ...headers, 'anthropic-version': '2023-06-01' }, dialectHeaders });
  t.not(versioned, cacheKey({ ...base, headers }), 'present: they count');
  t.not(versioned, cacheKey({ ...base, headers: { ...headers, 'anthropic-beta': '2023-06-01' }, dialectHeaders }), 'each under its own name');
});
