/**
 * The Mistral conversation lookup (`GET /v1/conversations/{id}`, asked under a model
 * allowlist) is tried once more when its first try got no connection or a 502 / 503 / 504
 * without a `retry-after`, and each try is seen by the provider's circuit breaker as an
 * attempt is: failures open it, and while it is open the lookup is refused at once; the
 * second try is counted in `gateway_upstream_retries_total` as an attempt's retry is, and is
 * made only with a place in the provider's retry budget; a 200 whose body is cut counts as a
 * failure, as a stream cut mid-way does. Before, the lookup was one call, its failure the
 * turn's, and the breaker never heard of it; later its retry ignored the budget and a cut
 * body went unreported.
 */
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { auditLines, waitFor } from '../../filters/fixtures.js';
import { metric } from '../../helpers/live.js';
import { MistralConversationsMock } from '../../mocks/mistral-conversations-mock.js';

const KEY = 'mistral-gateway-key-0000';

async function start(t: Parameters<typeof startGateway>[0], resilience = '') {
  const mock = await MistralConversationsMock.start(KEY);
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `server: { port: 0 }
providers:
  mistral: { type: openai, api_key: ${KEY}, base_url: "${mock.url}"${resilience} }
filters:
  - name: auth
    config: { source: static }
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 10 }
  - name: validator
    config:
      users:
        alice: { models: ["mistral-small-*"] }
workspaces:
  ws-a: { user: alice }
  ws-b: { user: bob }
`);
  const post = async (workspace: string, p: string, body: Record<string, unknown>) => {
    const res = await fetch(`${gw.url}/v1/mistral${p}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': workspace, authorization: 'Bearer client-secret' }, body: JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as { conversation_id?: string; error?: { message: string; type: string; code: string | null } } };
  };
  // Begun by bob, whom no allowlist watches: alice's turns on it have to ask Mistral.
  const conversation = async () => (await post('ws-b', '/v1/conversations', { model: 'mistral-small-latest', inputs: 'Hi' })).json.conversation_id!;
  const append = (id: string) => post('ws-a', `/v1/conversations/${id}`, { inputs: 'And?' });
  const audit = () => auditLines(path.join(gw.dir, 'audit.log'));
  return { mock, gw, post, conversation, append, audit };
}

t.test('a lookup failing once (502, 503, 504, a dropped connection) is tried again and the turn goes through', async (t) => {
  const s = await start(t);
  for (const status of [502, 503, 504]) {
    const id = await s.conversation();
    s.mock.getFails = status;
    s.mock.getFailsTimes = 1;
    const turn = await s.append(id);
    t.equal(turn.status, 200, `${status} once: the second try answered`);
    t.equal(s.mock.seen('GET', `/v1/conversations/${id}`).length, 2, `${status}: asked twice`);
    t.equal(s.mock.seen('POST', `/v1/conversations/${id}`).length, 1, 'the turn reached Mistral once');
  }
  const id = await s.conversation();
  s.mock.getDrops = 1;
  t.equal((await s.append(id)).status, 200, 'a connection closed without an answer: tried again');
  t.equal(s.mock.seen('GET', `/v1/conversations/${id}`).length, 2);
  t.ok(await waitFor(() => s.audit().filter((l) => l.user === 'alice').length === 4));
  t.ok(s.audit().filter((l) => l.user === 'alice').every((l) => l.status === 200 && l.error === null), 'audited as the answered turns they are');
  const text = await (await fetch(`${s.gw.url}/metrics`)).text();
  t.equal(metric(text, 'gateway_upstream_retries_total{target="mistral",reason="5xx"}'), 3, 'each retry after a 502 / 503 / 504 counted, as an attempt\'s is');
  t.equal(metric(text, 'gateway_upstream_retries_total{target="mistral",reason="connection"}'), 1, 'and the one after a dropped connection');
});

t.test('not tried again: a 500, a 429, an upstream asking for a wait', async (t) => {
  const s = await start(t);
  for (const [status, retryAfter] of [[500, undefined], [429, undefined], [503, '3']] as const) {
    const id = await s.conversation();
    s.mock.getFails = status;
    s.mock.getFailsTimes = 1;
    s.mock.getRetryAfter = retryAfter;
    const turn = await s.append(id);
    t.equal(turn.status, 502, `${status}${retryAfter ? ` with retry-after ${retryAfter}` : ''}: the retryable 502`);
    t.equal(turn.headers.get('retry-after') ?? undefined, retryAfter, 'the wait asked for is the client\'s');
    t.equal(s.mock.seen('GET', `/v1/conversations/${id}`).length, 1, 'asked once');
  }
  t.notMatch(await (await fetch(`${s.gw.url}/metrics`)).text(), /^gateway_upstream_retries_total\{/m, 'no retry counted');
});

t.test('a lookup failing every time: one retry, then the 502 in the OpenAI shape, audited', async (t) => {
  const s = await start(t);
  const id = await s.conversation();
  s.mock.getFails = 503;
  const turn = await s.append(id);
  t.equal(turn.status, 502);
  t.equal(turn.json.error?.type, 'server_error', 'the OpenAI error shape');
  t.match(turn.json.error?.message, /^Upstream answered 503 when asked which model this conversation runs on; retry later/);
  t.notMatch(turn.text, /Internal error/, "Mistral's text is not passed on");
  t.equal(s.mock.seen('GET', `/v1/conversations/${id}`).length, 2, 'the first try and one retry');
  t.equal(s.mock.seen('POST', `/v1/conversations/${id}`).length, 0, 'the turn never reached Mistral');
  t.ok(await waitFor(() => s.audit().some((l) => l.user === 'alice')));
  const line = s.audit().find((l) => l.user === 'alice')!;
  t.equal(line.status, 502);
  t.equal(line.error, 'GW_ERR_UPSTREAM_UNREACHABLE');
  t.equal(line.provider, 'mistral');
  t.notMatch(JSON.stringify(line), KEY, 'no credential in the audit line');
});

t.test("the lookup's failures count toward the provider's circuit breaker; open, it fails fast", async (t) => {
  const s = await start(t, ', resilience: { breaker: { consecutive_failures: 2, cooldown_ms: 60000 } }');
  const id = await s.conversation();
  s.mock.getFails = 503;
  t.equal((await s.append(id)).status, 502, 'two failed tries: the breaker opens');
  const gets = s.mock.seen('GET').length;
  const fast = await s.append(id);
  t.equal(fast.status, 503, 'the next lookup is refused at once');
  t.match(fast.json.error?.message, /circuit open/);
  t.ok(Number(fast.headers.get('retry-after')) > 0, 'with the cool-down left as retry-after');
  t.equal(s.mock.seen('GET').length, gets, 'Mistral was not asked');
  const started = await s.post('ws-b', '/v1/conversations', { model: 'mistral-small-latest', inputs: 'Hi' });
  t.equal(started.status, 503, "the provider's own calls are refused too: it is the same upstream");
  const health = (await (await fetch(`${s.gw.url}/health`)).json()) as { providers: Record<string, { circuit?: { state: string } }> };
  t.equal(health.providers.mistral.circuit?.state, 'open');
});

t.test('a lookup that succeeds resets the consecutive failures, as an answered attempt does', async (t) => {
  const s = await start(t, ', resilience: { breaker: { consecutive_failures: 3, cooldown_ms: 60000 } }');
  const id = await s.conversation();
  s.mock.getFails = 503;
  s.mock.getFailsTimes = 1;
  t.equal((await s.append(id)).status, 200, 'one failure, then an answer');
  const other = await s.conversation();
  s.mock.getFails = 503;
  s.mock.getFailsTimes = 2;
  t.equal((await s.append(other)).status, 502, 'two more failures: three in all, but not in a row');
  t.equal((await s.post('ws-b', '/v1/conversations', { model: 'mistral-small-latest', inputs: 'Hi' })).status, 200, 'the breaker is still closed');
});

t.test("the lookup's retry takes a place in the provider's retry budget, as an attempt's does; a spent budget refuses it", async (t) => {
  const s = await start(t, ', resilience: { retry_budget: { percent: 0, min_concurrency: 0 } }');
  const id = await s.conversation();
  s.mock.getFails = 503;
  s.mock.getFailsTimes = 1;
  const turn = await s.append(id);
  t.equal(turn.status, 502, 'no place for the retry: the first failure stands');
  t.equal(s.mock.seen('GET', `/v1/conversations/${id}`).length, 1, 'asked once');
  const text = await (await fetch(`${s.gw.url}/metrics`)).text();
  t.equal(metric(text, 'gateway_retry_budget_exhausted_total{target="mistral"}'), 1, 'counted as a retry the budget refused');
  t.notMatch(text, /^gateway_upstream_retries_total\{/m, 'no retry counted');
  s.mock.getFails = 503;
  s.mock.getFailsTimes = 1;
  t.equal((await s.append(id)).status, 502, 'the budget is the same for the next turn');
  t.equal(s.mock.seen('GET', `/v1/conversations/${id}`).length, 2, 'asked once more, once');
});

t.test("the lookup's retry gives its budget place back: one place serves retry after retry", async (t) => {
  const s = await start(t, ', resilience: { retry_budget: { percent: 0, min_concurrency: 1 } }');
  for (let i = 0; i < 3; i++) {
    const id = await s.conversation();
    s.mock.getFails = 503;
    s.mock.getFailsTimes = 1;
    t.equal((await s.append(id)).status, 200, `turn ${i + 1}: retried with the one place, then answered`);
  }
  const text = await (await fetch(`${s.gw.url}/metrics`)).text();
  t.equal(metric(text, 'gateway_upstream_retries_total{target="mistral",reason="5xx"}'), 3);
  t.notMatch(text, /^gateway_retry_budget_exhausted_total\{/m, 'the place was free each time');
});

t.test("a lookup's 200 whose body is cut counts as a failure toward the breaker, as a stream cut mid-way does", async (t) => {
  const s = await start(t, ', resilience: { breaker: { consecutive_failures: 1, cooldown_ms: 60000 } }');
  const id = await s.conversation();
  s.mock.getCuts = 1;
  const cut = await s.append(id);
  t.equal(cut.status, 502, 'the cut answer: a retryable 502');
  t.equal(s.mock.seen('GET', `/v1/conversations/${id}`).length, 1, 'not tried again: Mistral began answering');
  const fast = await s.append(id);
  t.equal(fast.status, 503, 'the breaker opened on it: the next lookup is refused at once');
  t.match(fast.json.error?.message, /circuit open/);
  t.equal(s.mock.seen('GET', `/v1/conversations/${id}`).length, 1, 'Mistral was not asked');
  const health = (await (await fetch(`${s.gw.url}/health`)).json()) as { providers: Record<string, { circuit?: { state: string } }> };
  t.equal(health.providers.mistral.circuit?.state, 'open');
});
