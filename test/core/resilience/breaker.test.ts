/**
 * The circuit breaker end to end: it opens on consecutive failures or an error rate,
 * fails fast with a 503 while open (the upstream sees nothing), lets one probe through
 * once the cool-down is over, closes on its success or reopens on its failure; its state
 * shows in /health, /v1/providers, the provider's health route and the metrics, and a
 * reload keeps it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { anthropicEntry, send, startMocks, startResilient } from '../../helpers/resilience.js';
import { metric } from '../../helpers/live.js';

const breaker = (body: string) => `    resilience:\n      breaker: { ${body} }`;

async function health(url: string): Promise<Record<string, unknown>> {
  const body = (await (await fetch(`${url}/health`)).json()) as { providers: Record<string, Record<string, unknown>> };
  return body.providers.anthropic;
}

t.test('open after N consecutive failures, fast 503s, half-open probe, closed again', async (t) => {
  const [mock] = await startMocks(t, 'failing');
  mock.fallback = { kind: 'status', status: 503 };
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, breaker('consecutive_failures: 3, cooldown_ms: 500'))]);
  const url = `${gw.url}/v1/claude/v1/messages`;
  t.match(await health(gw.url), { status: 'ok', circuit: { state: 'closed' } });
  for (let i = 0; i < 3; i++) t.equal((await send(url)).status, 503, `failure ${i + 1} reaches the upstream`);
  t.equal(mock.hits, 3);

  const fast = await send(url);
  t.equal(fast.status, 503);
  t.equal(mock.hits, 3, 'open: the upstream sees nothing');
  t.equal(fast.headers['retry-after'], '1', 'retry-after: the rest of the cool-down, in whole seconds');
  t.match(JSON.parse(fast.text), { type: 'error', error: { type: 'api_error', message: /circuit open/ } });
  t.match((await outcomeFor(fast.id)).outcome, { status: 503, error: { kind: 'unavailable', code: 'GW_ERR_UPSTREAM_CIRCUIT_OPEN' }, attempts: undefined });

  t.match(await health(gw.url), { status: 'down', circuit: { state: 'open', consecutive_failures: 3, retry_in_ms: Number } });
  const listed = (await (await fetch(`${gw.url}/v1/providers`)).json()) as { providers: Array<Record<string, unknown>> };
  t.match(listed.providers.find((p) => p.name === 'anthropic'), { status: 'down', circuit: { state: 'open' } });
  t.equal((await fetch(`${gw.url}/v1/claude/health`)).status, 503, "the provider's own health route says so too");
  let metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.equal(metric(metrics, 'gateway_circuit_state{target="anthropic"}'), 2);
  t.equal(metric(metrics, 'gateway_circuit_transitions_total{target="anthropic",to="open"}'), 1);
  t.equal(metric(metrics, 'gateway_circuit_rejections_total{target="anthropic"}'), 1);

  await sleep(600);
  t.match(await health(gw.url), { status: 'degraded', circuit: { state: 'half_open' } });
  t.equal((await send(url)).status, 503, 'the probe fails');
  t.equal(mock.hits, 4, 'one probe went through');
  t.equal((await send(url)).status, 503);
  t.equal(mock.hits, 4, 'open again at once');

  await sleep(600);
  mock.fallback = { kind: 'ok', delayMs: 300 };
  const [probe, other] = await Promise.all([send(url), sleep(100).then(() => send(url))]);
  t.equal(probe.status, 200, 'the probe succeeds');
  t.equal(other.status, 503, 'while it runs, others still fail fast');
  t.equal(mock.hits, 5);
  t.match(await health(gw.url), { status: 'ok', circuit: { state: 'closed', consecutive_failures: 0 } });
  t.equal((await send(url)).status, 200, 'closed: traffic flows');
  metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.equal(metric(metrics, 'gateway_circuit_state{target="anthropic"}'), 0);
  t.equal(metric(metrics, 'gateway_circuit_transitions_total{target="anthropic",to="half_open"}'), 2);
  t.equal(metric(metrics, 'gateway_circuit_transitions_total{target="anthropic",to="closed"}'), 1);
});

t.test('open on an error rate over the window, though failures are never consecutive enough', async (t) => {
  const [mock] = await startMocks(t, 'half-broken');
  mock.script.push({ kind: 'ok' }, { kind: 'status', status: 500 }, { kind: 'ok' }, { kind: 'status', status: 502 });
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, breaker('consecutive_failures: 100, error_rate: 0.5, min_requests: 4, window_ms: 10000, cooldown_ms: 10000'))]);
  const url = `${gw.url}/v1/claude/v1/messages`;
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await send(url)).status);
  t.same(statuses, [200, 500, 200, 502]);
  t.equal((await send(url)).status, 503);
  t.equal(mock.hits, 4, '2 failures in 4 requests: open');
});

t.test('429s and client errors do not open the breaker', async (t) => {
  const [mock] = await startMocks(t, 'busy');
  mock.script.push({ kind: 'status', status: 400 }, { kind: 'status', status: 400 });
  mock.fallback = { kind: 'status', status: 429 };
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, breaker('consecutive_failures: 2'))]);
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await send(`${gw.url}/v1/claude/v1/messages`)).status);
  t.same(statuses, [400, 400, 429, 429, 429]);
  t.equal(mock.hits, 5);
  t.match(await health(gw.url), { circuit: { state: 'closed' } });
});

t.test('an open breaker survives a config reload', async (t) => {
  const [mock] = await startMocks(t, 'failing');
  mock.fallback = { kind: 'status', status: 500 };
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, breaker('consecutive_failures: 2, cooldown_ms: 60000'))]);
  const url = `${gw.url}/v1/claude/v1/messages`;
  await send(url);
  await send(url);
  t.equal((await send(url)).status, 503);
  writeFileSync(gw.configPath, readFileSync(gw.configPath, 'utf8') + '\n# edited\n');
  const result = await gw.gateway.reload();
  t.match(result, { ok: true, changed: true });
  t.equal((await send(url)).status, 503, 'still open on the new pipeline');
  t.equal(mock.hits, 2);
});
