/**
 * Forwarded headers that pick the account, organisation or project an upstream answers for
 * are part of the cache key, whatever `vary_headers` says: a provider's opted-in
 * `forward_headers` (on the unified endpoint the only client headers a translating provider
 * sends), `OpenAI-Organization` / `OpenAI-Project` where a pass-through forwards them, and
 * Google's `x-goog-user-project` (the quota and billing project). Before, a `shared` cache
 * replayed one workspace's or organisation's answer to another that the upstream would
 * have answered for a different account. Local upstreams record what reached them.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { GeminiMock } from '../../mocks/gemini-mock.js';
import { ScriptedUpstream } from '../../proof/support/upstream.js';

const GKEY = 'gemini-gateway-key-000000000000';
const WORKSPACES = `workspaces:
  ws-1: { user: alice }
  ws-2: { user: bob }
`;

async function upstream(t: { teardown(fn: () => unknown): void }): Promise<ScriptedUpstream> {
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  return up;
}

interface Sent {
  status: number;
  cache: string | null;
  text: string;
}

async function post(url: string, body: unknown, headers: Record<string, string>): Promise<Sent> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, cache: res.headers.get('x-cache'), text: await res.text() };
}

for (const type of ['anthropic', 'openai'] as const) {
  const model = type === 'anthropic' ? 'claude-sonnet-4-5' : 'gpt-4o';
  t.test(`unified endpoint, ${type}: the provider's forward_headers are part of a shared key`, async (t) => {
    const forwarding = await upstream(t);
    const plain = await upstream(t);
    const gw = await startGateway(t, `providers:
  forwarding: { type: ${type}, api_key: sk-a, base_url: "${forwarding.url}", forward_headers: [X-Workspace-ID], model_patterns: ["${model}"] }
  plain: { type: ${type}, api_key: sk-b, base_url: "${plain.url}", model_patterns: [] }
filters:
  - name: auth
  - name: cache
    config: { scope: shared }
${WORKSPACES}`);
    const chat = (workspace: string, provider = 'forwarding') => post(`${gw.url}/v1/chat/completions`, { model, temperature: 0, messages: [{ role: 'user', content: 'hi' }] }, { 'x-workspace-id': workspace, 'x-provider': provider });
    const first = await chat('ws-1');
    t.equal(first.status, 200, first.text);
    t.equal(first.cache, 'MISS');
    const other = await chat('ws-2');
    t.equal(other.cache, 'MISS', "another workspace's value for a forwarded header: not the first workspace's answer");
    t.equal(forwarding.seen.at(-1)?.headers['x-workspace-id'], 'ws-2', 'and the header reached the upstream');
    t.equal((await chat('ws-1')).cache, 'HIT', 'the same value again is the same answer');
    t.equal(forwarding.seen.length, 2);
    // A provider that forwards no client header shares its entries across workspaces, as `shared` says.
    t.equal((await chat('ws-1', 'plain')).cache, 'MISS');
    t.equal((await chat('ws-2', 'plain')).cache, 'HIT', 'nothing forwarded: one entry for everyone');
    t.equal(plain.seen.at(-1)?.headers['x-workspace-id'], undefined);
    t.equal(plain.seen.length, 1);
  });
}

t.test('Anthropic pass-through: OpenAI-Organization and OpenAI-Project are part of the key, whatever vary_headers says', async (t) => {
  const up = await upstream(t);
  const gw = await startGateway(t, `providers:
  anthropic: { api_key: sk-ant, base_url: "${up.url}" }
filters:
  - name: auth
  - name: cache
    config: { scope: shared, vary_headers: [] }
${WORKSPACES}`);
  const send = (workspace: string, headers: Record<string, string> = {}) =>
    post(`${gw.url}/v1/claude/v1/messages`, { model: 'claude-sonnet-4-5', max_tokens: 64, temperature: 0, messages: [{ role: 'user', content: 'hi' }] }, { 'x-workspace-id': workspace, 'anthropic-version': '2023-06-01', ...headers });
  const first = await send('ws-1', { 'openai-organization': 'org-a' });
  t.equal(first.status, 200, first.text);
  t.equal(first.cache, 'MISS');
  t.equal(up.seen.at(-1)?.headers['openai-organization'], 'org-a', 'the pass-through forwards it');
  t.equal((await send('ws-2', { 'openai-organization': 'org-b' })).cache, 'MISS', 'another organisation');
  t.equal((await send('ws-2', { 'openai-organization': 'org-a', 'openai-project': 'proj-1' })).cache, 'MISS', 'another project');
  t.equal((await send('ws-2')).cache, 'MISS', 'none');
  t.equal(up.seen.length, 4);
  t.equal((await send('ws-2', { 'openai-organization': 'org-a' })).cache, 'HIT', "the same organisation: shared, as configured");
  t.equal((await send('ws-1', { 'openai-project': 'proj-1', 'openai-organization': 'org-a' })).cache, 'HIT');
  t.equal(up.seen.length, 4);
});

t.test('Gemini pass-through: x-goog-user-project is part of the key', async (t) => {
  const mock = await GeminiMock.start(GKEY);
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `providers:
  gemini: { api_key: ${GKEY}, base_url: ${mock.url} }
filters:
  - name: auth
  - name: cache
    config: { scope: shared }
${WORKSPACES}`);
  const send = (workspace: string, project?: string) =>
    post(`${gw.url}/v1/gemini/v1beta/models/gemini-2.5-flash:generateContent`, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { temperature: 0 } }, { 'x-workspace-id': workspace, ...(project ? { 'x-goog-user-project': project } : {}) });
  const first = await send('ws-1', 'billing-a');
  t.equal(first.status, 200, first.text);
  t.equal(first.cache, 'MISS');
  t.equal(mock.last?.headers['x-goog-user-project'], 'billing-a', 'the pass-through forwards it');
  t.equal((await send('ws-2', 'billing-b')).cache, 'MISS', 'another quota project');
  t.equal((await send('ws-2')).cache, 'MISS', 'none');
  t.equal((await send('ws-2', 'billing-a')).cache, 'HIT');
  t.equal(mock.requests.length, 3);
});
