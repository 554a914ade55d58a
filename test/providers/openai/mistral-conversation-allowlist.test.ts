/**
 * An append to a Mistral conversation (`POST /v1/conversations/{id}`) or a restart of it
 * runs on the model or agent the conversation began with, and names none: under a model
 * allowlist it is judged as that start would be. What the conversation runs on is
 * remembered from the answer to a start (or turn) the allowlist admitted, and otherwise
 * asked of Mistral (`GET /v1/conversations/{id}`, the gateway's key); when Mistral knows no
 * such conversation the turn is refused, and when it fails to answer (5xx, 429, a timeout, no
 * connection) the turn gets a retryable 502/504. A model or agent_id in a turn's body is not believed: Mistral
 * runs the conversation's own. Without an allowlist nothing is asked.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { MistralConversationsMock } from '../../mocks/mistral-conversations-mock.js';

const KEY = 'mistral-gateway-key-0000';
const mock = await MistralConversationsMock.start(KEY);
t.teardown(() => mock.close());
const gw = await startGateway(t, `server: { port: 0 }
providers:
  mistral: { type: openai, api_key: ${KEY}, base_url: "${mock.url}" }
filters:
  - name: auth
    config: { source: static }
  - name: validator
    config:
      users:
        alice: { models: ["mistral-small-*", "agent:ag_listed"] }
workspaces:
  ws-a: { user: alice }
  ws-b: { user: bob }
`);

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  error?: { message: string; param?: string | null };
  conversation?: string;
}

/** POST as a workspace: `ws-a` (alice, restricted) or `ws-b` (bob, any model). */
async function post(workspace: string, path: string, body: Record<string, unknown>, base = gw.url): Promise<Answer> {
  const res = await fetch(`${base}/v1/mistral${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': workspace, authorization: 'Bearer client-secret' }, body: JSON.stringify(body) });
  const text = await res.text();
  const parsed = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as { error?: Answer['error']; conversation_id?: string }) : {};
  const streamed = /"conversation_id":"([^"]+)"/.exec(text)?.[1];
  return { status: res.status, headers: res.headers, text, error: parsed.error, conversation: parsed.conversation_id ?? streamed };
}

const start = (workspace: string, on: Record<string, unknown>, stream = false) => post(workspace, '/v1/conversations', { ...on, inputs: 'Who won the last World Cup?', stream });
const append = (workspace: string, id: string, extra: Record<string, unknown> = {}) => post(workspace, `/v1/conversations/${id}`, { inputs: 'And the one before?', ...extra });
const restart = (workspace: string, id: string) => post(workspace, `/v1/conversations/${id}/restart`, { inputs: 'Again', from_entry_id: 'msg_1' });

t.test("a conversation begun on a model outside the allowlist: its appends and restarts refused, on Mistral's word", async (t) => {
  const large = await start('ws-b', { model: 'mistral-large-latest' });
  t.equal(large.status, 200, 'bob may start it');
  const id = large.conversation!;
  t.equal(mock.seen('GET').length, 0, 'no allowlist: nothing asked of Mistral');
  const posts = mock.seen('POST').length;

  const a = await append('ws-a', id);
  t.equal(a.status, 403, "alice's append");
  t.equal(a.error?.message, 'model: "mistral-large-latest" is not allowed for user "alice"');
  const gets = mock.seen('GET');
  t.equal(gets.length, 1, 'Mistral asked what the conversation runs on');
  t.equal(gets[0].url, `/v1/conversations/${id}`);
  t.equal(gets[0].headers.authorization, `Bearer ${KEY}`, "with the gateway's key, never the client's");

  t.equal((await append('ws-a', id, { model: 'mistral-small-latest' })).status, 403, 'a model named in the body is not believed');
  t.equal((await append('ws-a', id, { agent_id: 'ag_listed' })).status, 403, 'nor an agent');
  t.equal((await restart('ws-a', id)).status, 403, 'a restart');
  t.equal(mock.seen('GET').length, 1, 'the answer remembered: asked once');
  t.equal(mock.seen('POST').length, posts, 'none reached Mistral');

  t.equal((await append('ws-b', id)).status, 200, 'bob, without an allowlist, appends as before');
});

t.test("an agent's conversation: judged as agent:<id>", async (t) => {
  const other = (await start('ws-b', { agent_id: 'ag_other' })).conversation!;
  const refused = await append('ws-a', other);
  t.equal(refused.status, 403);
  t.equal(refused.error?.message, 'agent_id: "agent:ag_other" is not allowed for user "alice"');
  const listed = (await start('ws-b', { agent_id: 'ag_listed' })).conversation!;
  t.equal((await append('ws-a', listed)).status, 200, 'an agent the allowlist names');
});

t.test('conversations alice began: remembered from the answer (JSON or stream), appended without asking', async (t) => {
  const gets = mock.seen('GET').length;
  const json = await start('ws-a', { model: 'mistral-small-latest' });
  t.equal(json.status, 200);
  t.equal((await append('ws-a', json.conversation!)).status, 200, 'after a JSON start');
  const streamed = await start('ws-a', { model: 'mistral-small-latest' }, true);
  t.equal(streamed.status, 200);
  t.match(streamed.text, /conversation\.response\.done/, 'the stream passes unchanged');
  t.equal((await append('ws-a', streamed.conversation!, { stream: true })).status, 200, 'after a streamed start');
  const restarted = await restart('ws-a', json.conversation!);
  t.equal(restarted.status, 200, 'a restart');
  t.not(restarted.conversation, json.conversation, 'a restart begins a new conversation');
  t.equal((await append('ws-a', restarted.conversation!)).status, 200, "the restart's conversation, remembered too");
  t.equal(mock.seen('GET').length, gets, 'Mistral never asked');

  t.equal((await start('ws-a', { model: 'mistral-large-latest' })).status, 403, 'a start outside the allowlist, as before');
  const both = await start('ws-a', { model: 'mistral-small-latest', agent_id: 'ag_other' });
  t.equal(both.error?.message, 'agent_id: "agent:ag_other" is not allowed for user "alice"', 'a start naming a model and an agent: both judged');
});

t.test('an unknown conversation is refused under an allowlist only; Mistral failing to answer is retryable', async (t) => {
  const unknown = await append('ws-a', 'conv_9999');
  t.equal(unknown.status, 403, 'Mistral knows no such conversation');
  t.match(unknown.error?.message, /^the model or agent this conversation runs on could not be learned from the upstream, so it cannot be checked against the models allowed for user "alice"/);
  const bob = await append('ws-b', 'conv_9999');
  t.equal(bob.status, 404, "without an allowlist: forwarded, Mistral's own 404");
  t.equal(mock.seen('GET', '/v1/conversations/conv_9999').length, 1, 'asked for alice only');

  const id = (await start('ws-b', { model: 'mistral-small-latest' })).conversation!;
  t.teardown(() => {
    mock.getFails = undefined;
    mock.getRetryAfter = undefined;
  });
  for (const [status, retryAfter, expected] of [
    [500, undefined, undefined],
    [503, '7', '7'],
    [503, ['2', '9'], '9'],
    [429, 'soon', undefined],
  ] as const) {
    mock.getFails = status;
    mock.getRetryAfter = retryAfter as string | string[] | undefined;
    const failed = await append('ws-a', id);
    t.equal(failed.status, 502, `Mistral answering ${status}: a retryable 502, neither a 403 nor let through`);
    t.equal(failed.headers.get('retry-after') ?? undefined, expected, `retry-after ${JSON.stringify(retryAfter)} read as ${expected}`);
    t.match(failed.error?.message, /^Upstream answered \d+ when asked which model this conversation runs on/);
    t.notMatch(failed.text, /Internal error/, "Mistral's text is not passed on");
  }
  t.equal(mock.seen('POST', `/v1/conversations/${id}`).length, 0, 'no append reached Mistral');
  mock.getFails = undefined;
  t.equal((await append('ws-a', id)).status, 200, 'once Mistral answers, the allowed model passes');
});

t.test('the lookup timing out or not connecting: retryable 504 and 502, never 403', async (t) => {
  const stalling = await startGateway(t, `server: { port: 0 }
providers:
  mistral: { type: openai, api_key: ${KEY}, base_url: "${mock.url}", headers_timeout_ms: 300 }
filters:
  - name: auth
    config: { source: static }
  - name: validator
    config:
      users:
        alice: { models: ["mistral-small-*"] }
workspaces:
  ws-a: { user: alice }
`);
  const id = (await start('ws-b', { model: 'mistral-small-latest' })).conversation!;
  mock.getStalls = true;
  t.teardown(() => (mock.getStalls = false));
  const timedOut = await post('ws-a', `/v1/conversations/${id}`, { inputs: 'And?' }, stalling.url);
  t.equal(timedOut.status, 504, 'the lookup timed out: GW_ERR_UPSTREAM_TIMEOUT');
  mock.getStalls = false;

  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const dead = await startGateway(t, `server: { port: 0 }
providers:
  mistral: { type: openai, api_key: ${KEY}, base_url: "http://127.0.0.1:${port}" }
filters:
  - name: auth
    config: { source: static }
  - name: validator
    config:
      users:
        alice: { models: ["mistral-small-*"] }
workspaces:
  ws-a: { user: alice }
`);
  const refused = await post('ws-a', '/v1/conversations/conv_0001', { inputs: 'And?' }, dead.url);
  t.equal(refused.status, 502, 'nothing listening: GW_ERR_UPSTREAM_UNREACHABLE');
  t.match(refused.error?.message, /could not be reached/);
});

t.test("the lookup is bounded by the provider's resilience timeouts and the route's override", async (t) => {
  // The pool's own headers_timeout_ms stays at its 10-minute default: only resilience bounds the lookup.
  const bounded = await startGateway(t, `server: { port: 0 }
providers:
  mistral: { type: openai, api_key: ${KEY}, base_url: "${mock.url}", resilience: { timeouts: { headers_ms: 300 } } }
routes:
  - name: patient
    match: { prefix: /patient }
    provider: mistral
    resilience: { timeouts: { headers_ms: 60000, total_ms: 400 } }
filters:
  - name: auth
    config: { source: static }
  - name: validator
    config:
      users:
        alice: { models: ["mistral-small-*"] }
workspaces:
  ws-a: { user: alice }
`);
  const id = (await start('ws-b', { model: 'mistral-small-latest' })).conversation!;
  mock.getStalls = true;
  t.teardown(() => (mock.getStalls = false));
  const began = Date.now();
  const timedOut = await post('ws-a', `/v1/conversations/${id}`, { inputs: 'And?' }, bounded.url);
  t.equal(timedOut.status, 504, "a hung lookup ends at the provider's headers_ms: GW_ERR_UPSTREAM_TIMEOUT");
  t.match(timedOut.error?.message, /which model this conversation runs on/);
  t.ok(Date.now() - began < 5000, 'within the timeout, not the pool default');

  const res = await fetch(`${bounded.url}/patient/v1/conversations/${id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-a', authorization: 'Bearer c' }, body: JSON.stringify({ inputs: 'And?' }) });
  t.equal(res.status, 504, "the route's override applies too (its total_ms, shorter than its headers_ms)");
  await res.arrayBuffer();
  mock.getStalls = false;
  t.equal((await post('ws-a', `/v1/conversations/${id}`, { inputs: 'And?' }, bounded.url)).status, 200, 'an answering Mistral: the turn goes through');
});

t.test('an id that is no conversation id is never looked up with the gateway key', async (t) => {
  const gets = mock.seen('GET').length;
  const odd = await append('ws-a', 'conv.x:y');
  t.equal(odd.status, 403, 'refused as unknown');
  t.equal(mock.seen('GET').length, gets, 'nothing asked of the upstream');
});
