/**
 * A provider's side call (a lookup) under the target's breaker: refused while it is open,
 * a half-open probe whose report decides the state as an attempt's does, each report
 * counted once; which ends are worth the one retry, and that retry counted.
 */
import { Registry } from 'prom-client';
import t from 'tap';
import { GatewayError } from '../../../core/errors.js';
import { silentLogger } from '../../../core/logger.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { resolvePolicy } from '../../../core/resilience/config.js';
import { ResilienceRegistry } from '../../../core/resilience/registry.js';
import { admitSideCall, retriesSideCall, UNWATCHED } from '../../../core/resilience/side-call.js';

const settings = resolvePolicy({ breaker: { consecutive_failures: 2, cooldown_ms: 50, half_open_probes: 1 } }, undefined).breaker!;
const failure = { error: new GatewayError('GW_ERR_UPSTREAM_UNREACHABLE') };

t.test('no breaker configured: reports go nowhere', async (t) => {
  const registry = new ResilienceRegistry(createMetricsFactory(new Registry()), silentLogger);
  const call = admitSideCall(registry, 'mistral', undefined);
  for (let i = 0; i < 5; i++) call.report(failure);
  t.equal(registry.target('mistral').breaker.state(settings), 'closed', 'no breaker heard of them');
  UNWATCHED.report(failure);
  UNWATCHED.countRetry(failure);
});

t.test("a side call's retry is counted as an attempt's is, by its trigger, breaker or none", async (t) => {
  const prom = new Registry();
  const registry = new ResilienceRegistry(createMetricsFactory(prom), silentLogger);
  const count = async (reason: string) => (await prom.getSingleMetric('gateway_upstream_retries_total')!.get()).values.find((v) => v.labels.reason === reason && v.labels.target === 'mistral')?.value ?? 0;
  admitSideCall(registry, 'mistral', undefined).countRetry({ status: 503 });
  admitSideCall(registry, 'mistral', settings).countRetry({ status: 502 });
  admitSideCall(registry, 'mistral', undefined).countRetry(failure);
  admitSideCall(registry, 'mistral', undefined).countRetry({ status: 500 }); // not a retried end: nothing counted
  t.equal(await count('5xx'), 2);
  t.equal(await count('connection'), 1);
});

t.test('failures open the breaker; open, a side call is refused; half-open, it is the probe', async (t) => {
  const registry = new ResilienceRegistry(createMetricsFactory(new Registry()), silentLogger);
  const breaker = registry.target('mistral').breaker;
  const first = admitSideCall(registry, 'mistral', settings);
  first.report(failure);
  first.report({ status: 200 }); // a second report of the same call is ignored
  t.equal(breaker.state(settings), 'closed');
  admitSideCall(registry, 'mistral', settings).report({ status: 503 });
  t.equal(breaker.state(settings), 'open', 'two failures in a row');
  t.throws(() => admitSideCall(registry, 'mistral', settings), { code: 'GW_ERR_UPSTREAM_CIRCUIT_OPEN' });
  await new Promise((resolve) => setTimeout(resolve, 80));
  const probe = admitSideCall(registry, 'mistral', settings);
  t.throws(() => admitSideCall(registry, 'mistral', settings), { code: 'GW_ERR_UPSTREAM_CIRCUIT_OPEN' }, 'one probe at a time');
  probe.report({ status: 429 });
  t.equal(breaker.state(settings), 'half_open', 'a 429 says nothing; the probe place is free again');
  admitSideCall(registry, 'mistral', settings).report({ status: 200 });
  t.equal(breaker.state(settings), 'closed', 'an answered probe closes it');
});

t.test('retried: no connection, a connect timeout, 502/503/504; never anything else', async (t) => {
  t.ok(retriesSideCall(failure));
  const connectTimeout = new GatewayError('GW_ERR_UPSTREAM_TIMEOUT', undefined, { cause: Object.assign(new Error('connect'), { code: 'UND_ERR_CONNECT_TIMEOUT' }) });
  t.ok(retriesSideCall({ error: connectTimeout }));
  const headersTimeout = new GatewayError('GW_ERR_UPSTREAM_TIMEOUT', undefined, { cause: Object.assign(new Error('headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) });
  t.notOk(retriesSideCall({ error: headersTimeout }));
  t.notOk(retriesSideCall({ error: new GatewayError('GW_ERR_UPSTREAM_PROTOCOL') }));
  t.notOk(retriesSideCall({ error: new GatewayError('GW_ERR_CLIENT_ABORT') }));
  for (const status of [502, 503, 504]) t.ok(retriesSideCall({ status }), String(status));
  for (const status of [200, 404, 429, 500, 501]) t.notOk(retriesSideCall({ status }), String(status));
});
