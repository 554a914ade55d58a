/**
 * Retries against a scripted upstream: what is retried (429 with its retry-after, 5xx and
 * 529, a reset before the head), what never is (a 400, anything after the first byte),
 * and the retry budget holding retries to a fraction of the load during an outage.
 */
import t from 'tap';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { anthropicEntry, errorEvents, send, startMocks, startResilient } from '../../helpers/resilience.js';
import { metric } from '../../helpers/live.js';

const retry = (body: string, extra = '') => `    resilience:\n      retry: { ${body} }${extra}`;

t.test('429: the upstream retry-after is waited out, then the retry succeeds', async (t) => {
  const [mock] = await startMocks(t, 'throttled');
  mock.script.push({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, retry('retries: 2, base_ms: 10'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(a.status, 200);
  t.equal(mock.hits, 2);
  t.ok(a.ms >= 950 && a.ms < 6000, `waited the second the upstream asked for (${Math.round(a.ms)} ms)`);
  t.match((await outcomeFor(a.id)).outcome, { status: 200, error: undefined, target: 'anthropic', attempts: 2 });
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  t.equal(metric(text, 'gateway_upstream_retries_total{target="anthropic",reason="429"}'), 1);
});

t.test('429: a retry-after longer than max_retry_after_ms is not waited: the client gets the 429 and its retry-after', async (t) => {
  const [mock] = await startMocks(t, 'throttled');
  mock.script.push({ kind: 'status', status: 429, headers: { 'retry-after': '30' } });
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, retry('retries: 2, base_ms: 10, max_retry_after_ms: 2000'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(a.status, 429);
  t.equal(a.headers['retry-after'], '30');
  t.match(JSON.parse(a.text), { error: { type: 'rate_limit_error', message: 'throttled says 429' } }, "the upstream's own error body");
  t.equal(mock.hits, 1);
  t.ok(a.ms < 1500, 'answered at once');
  t.match((await outcomeFor(a.id)).outcome, { status: 429, attempts: 1 });
});

t.test('5xx and 529 are retried with backoff until one succeeds', async (t) => {
  const [mock] = await startMocks(t, 'overloaded');
  mock.script.push({ kind: 'status', status: 529 }, { kind: 'status', status: 503 });
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, retry('retries: 3, base_ms: 20, max_backoff_ms: 50'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`, { stream: true });
  t.equal(a.status, 200);
  t.match(a.text, /message_stop/);
  t.equal(mock.hits, 3);
  t.match((await outcomeFor(a.id)).outcome, { status: 200, attempts: 3 });
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  t.equal(metric(text, 'gateway_upstream_retries_total{target="anthropic",reason="5xx"}'), 2);
});

t.test('retries spent: the client gets the last upstream answer as it was', async (t) => {
  const [mock] = await startMocks(t, 'down');
  mock.fallback = { kind: 'status', status: 503 };
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, retry('retries: 2, base_ms: 10'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(a.status, 503);
  t.match(JSON.parse(a.text), { error: { message: 'down says 503' } });
  t.equal(mock.hits, 3, 'one attempt and two retries');
  t.match((await outcomeFor(a.id)).outcome, { status: 503, attempts: 3 });
});

t.test('a connection reset before the response head is retried', async (t) => {
  const [mock] = await startMocks(t, 'flaky');
  mock.script.push({ kind: 'reset' });
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, retry('retries: 1, base_ms: 10'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(a.status, 200);
  t.match(JSON.parse(a.text), { type: 'message' });
  t.equal(mock.hits, 2);
  t.match((await outcomeFor(a.id)).outcome, { status: 200, attempts: 2 });
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  t.equal(metric(text, 'gateway_upstream_retries_total{target="anthropic",reason="connection"}'), 1);
});

t.test('without retries configured, nothing is retried', async (t) => {
  const [mock] = await startMocks(t, 'flaky');
  mock.script.push({ kind: 'reset' });
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url)]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(a.status, 502);
  t.equal(mock.hits, 1);
  t.match((await outcomeFor(a.id)).outcome, { status: 502, attempts: 1, target: 'anthropic' });
});

t.test('a 400 is the answer, not a reason to retry', async (t) => {
  const [mock] = await startMocks(t, 'strict');
  mock.script.push({ kind: 'status', status: 400 });
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, retry('retries: 3, base_ms: 10'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(a.status, 400);
  t.equal(mock.hits, 1);
});

t.test('never after the first byte: a stream cut mid-way ends with an error event, not a second attempt', async (t) => {
  const [mock] = await startMocks(t, 'cut');
  mock.script.push({ kind: 'reset-body', after: 3 });
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, retry('retries: 3, base_ms: 10'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`, { stream: true });
  t.equal(a.status, 200);
  t.match(a.text, /event: message_start/);
  t.equal(errorEvents(a.text).length, 1, 'the client sees the failure');
  t.equal(mock.hits, 1, 'not retried');
  t.match((await outcomeFor(a.id)).outcome, { status: 200, attempts: 1, error: { kind: 'upstream_error' } });
});

t.test('retry budget: during an outage, concurrent failing requests get a bounded number of retries', async (t) => {
  const [mock] = await startMocks(t, 'outage');
  mock.fallback = { kind: 'status', status: 503, delayMs: 300 };
  const budget = '\n      retry_budget: { percent: 20, min_concurrency: 1 }';
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, retry('retries: 3, base_ms: 10, max_backoff_ms: 20', budget))]);
  const answers = await Promise.all(Array.from({ length: 10 }, () => send(`${gw.url}/v1/claude/v1/messages`)));
  t.ok(answers.every((a) => a.status === 503), 'every request fails, with the upstream 503');
  // Unbudgeted this would be 10 × 4 = 40 upstream requests.
  t.ok(mock.hits > 10 && mock.hits <= 16, `a few retries, far from 40 (${mock.hits} upstream requests)`);
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const exhausted = metric(text, 'gateway_retry_budget_exhausted_total{target="anthropic"}');
  t.ok(exhausted >= 5, `retries refused by the budget (${exhausted})`);
  const attempts = await Promise.all(answers.map(async (a) => (await outcomeFor(a.id)).outcome.attempts ?? 0));
  t.equal(attempts.reduce((s, n) => s + n, 0), mock.hits, 'outcomes count every attempt');
});
