/**
 * A provider's side call (a lookup) under the target's breaker: refused while it is open,
 * a half-open probe whose report decides the state as an attempt's does, each report
 * counted once, a body failing after its head a failure as an attempt's is; which ends are
 * worth the one retry, that retry counted, and made only with a place in the retry budget.
 */
import { Registry } from 'prom-client';
import t from 'tap';
import { GatewayError } from '../../../core/errors.js';
import { silentLogger } from '../../../core/logger.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { resolvePolicy } from '../../../core/resilience/config.js';
import { ResilienceRegistry } from '../../../core/resilience/registry.js';
import { admitSideCall, retriesSideCall, UNWATCHED } from '../../../core/resilience/side-call.js';

const policy = resolvePolicy({ breaker: { consecutive_failures: 2, cooldown_ms: 50, half_open_probes: 1 } }, undefined);
const settings = policy.breaker!;
/** No breaker, the default retry budget. */
const plain = resolvePolicy(undefined, undefined);
const failure = { error: new GatewayError('GW_ERR_UPSTREAM_UNREACHABLE') };

t.test('no breaker configured: reports go nowhere', async (t) => {
  const registry = new ResilienceRegistry(createMetricsFactory(new Registry()), silentLogger);
  const call = admitSideCall(registry, 'mistral', plain);
  for (let i = 0; i < 5; i++) call.report(failure);
  call.reportBody(failure.error);
  t.equal(registry.target('mistral').breaker.state(settings), 'closed', 'no breaker heard of them');
  call.release();
  UNWATCHED.report(failure);
  UNWATCHED.reportBody(failure.error);
  t.ok(UNWATCHED.retry(failure), 'no target: no budget to refuse it');
  t.notOk(UNWATCHED.retry({ status: 500 }));
  UNWATCHED.again();
  UNWATCHED.release();
});

t.test("a side call's retry is counted as an attempt's is, by its trigger, breaker or none", async (t) => {
  const prom = new Registry();
  const registry = new ResilienceRegistry(createMetricsFactory(prom), silentLogger);
  const count = async (reason: string) => (await prom.getSingleMetric('gateway_upstream_retries_total')!.get()).values.find((v) => v.labels.reason === reason && v.labels.target === 'mistral')?.value ?? 0;
  const retried = (p: typeof policy, end: Parameters<typeof retriesSideCall>[0]) => {
    const call = admitSideCall(registry, 'mistral', p);
    const allowed = call.retry(end);
    call.release();
    return allowed;
  };
  t.ok(retried(plain, { status: 503 }));
  t.ok(retried(policy, { status: 502 }));
  t.ok(retried(plain, failure));
  t.notOk(retried(plain, { status: 500 }), 'not a retried end: nothing counted');
  t.equal(await count('5xx'), 2);
  t.equal(await count('connection'), 1);
});

t.test('failures open the breaker; open, a side call is refused; half-open, it is the probe', async (t) => {
  const registry = new ResilienceRegistry(createMetricsFactory(new Registry()), silentLogger);
  const breaker = registry.target('mistral').breaker;
  const first = admitSideCall(registry, 'mistral', policy);
  first.report(failure);
  first.report({ status: 200 }); // a second report of the same call is ignored
  t.equal(breaker.state(settings), 'closed');
  admitSideCall(registry, 'mistral', policy).report({ status: 503 });
  t.equal(breaker.state(settings), 'open', 'two failures in a row');
  t.throws(() => admitSideCall(registry, 'mistral', policy), { code: 'GW_ERR_UPSTREAM_CIRCUIT_OPEN' });
  await new Promise((resolve) => setTimeout(resolve, 80));
  const probe = admitSideCall(registry, 'mistral', policy);
  t.throws(() => admitSideCall(registry, 'mistral', policy), { code: 'GW_ERR_UPSTREAM_CIRCUIT_OPEN' }, 'one probe at a time');
  probe.report({ status: 429 });
  t.equal(breaker.state(settings), 'half_open', 'a 429 says nothing; the probe place is free again');
  admitSideCall(registry, 'mistral', policy).report({ status: 200 });
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

t.test("a side call's retry takes a place in the target's retry budget, given back on release", async (t) => {
  const prom = new Registry();
  const registry = new ResilienceRegistry(createMetricsFactory(prom), silentLogger);
  const exhausted = async () => (await prom.getSingleMetric('gateway_retry_budget_exhausted_total')!.get()).values.find((v) => v.labels.target === 'mistral')?.value ?? 0;
  const budget = registry.target('mistral').budget;
  const one = resolvePolicy({ retry_budget: { percent: 0, min_concurrency: 1 } }, undefined);
  const first = admitSideCall(registry, 'mistral', one);
  const second = admitSideCall(registry, 'mistral', one);
  t.same(budget.snapshot, { active: 2, retrying: 0 }, 'each call is active on the target, as an attempt is');
  t.ok(first.retry({ status: 503 }), 'the one place');
  t.same(budget.snapshot, { active: 2, retrying: 1 });
  t.notOk(second.retry({ status: 503 }), 'no place left: refused');
  t.equal(await exhausted(), 1, 'counted as a retry the budget refused');
  t.ok(first.retry({ status: 503 }), "a call's next retry moves its own place along");
  t.same(budget.snapshot, { active: 2, retrying: 1 });
  first.release();
  first.release(); // once
  t.same(budget.snapshot, { active: 1, retrying: 0 }, 'released: its places given back');
  t.notOk(first.retry({ status: 503 }), 'a released call retries no more');
  t.ok(second.retry({ status: 503 }), 'the freed place');
  second.release();
  t.same(budget.snapshot, { active: 0, retrying: 0 });

  const none = resolvePolicy({ retry_budget: { percent: 0, min_concurrency: 0 } }, undefined);
  const refused = admitSideCall(registry, 'mistral', none);
  t.notOk(refused.retry(failure), 'a spent budget refuses the retry');
  refused.release();
  t.equal(await exhausted(), 2);
  t.same(budget.snapshot, { active: 0, retrying: 0 });
});

t.test('a retry is let through the breaker as a new try: refused while it is open, its report counted', async (t) => {
  const registry = new ResilienceRegistry(createMetricsFactory(new Registry()), silentLogger);
  const breaker = registry.target('mistral').breaker;
  const call = admitSideCall(registry, 'mistral', policy);
  call.report({ status: 503 });
  t.ok(call.retry({ status: 503 }));
  call.again();
  call.report({ status: 503 });
  t.equal(breaker.state(settings), 'open', "each try's report counted: two failures in a row");
  t.ok(call.retry({ status: 503 }));
  t.throws(() => call.again(), { code: 'GW_ERR_UPSTREAM_CIRCUIT_OPEN' }, 'open: the next try is refused');
  call.release();
  t.same(registry.target('mistral').budget.snapshot, { active: 0, retrying: 0 });
});

t.test("a body failing after its head counts as a failure, as an attempt's body does; a client leaving does not", async (t) => {
  const registry = new ResilienceRegistry(createMetricsFactory(new Registry()), silentLogger);
  const breaker = registry.target('mistral').breaker;
  const cut = new GatewayError('GW_ERR_UPSTREAM_PROTOCOL');
  const first = admitSideCall(registry, 'mistral', policy);
  first.report({ status: 200 });
  first.reportBody(cut);
  first.reportBody(cut); // once
  first.release();
  t.match(breaker.snapshot(settings), { consecutive_failures: 1 }, 'the head a success, the body a failure');
  const left = admitSideCall(registry, 'mistral', policy);
  left.report({ status: 200 });
  left.reportBody(new GatewayError('GW_ERR_CLIENT_ABORT'));
  left.release();
  t.match(breaker.snapshot(settings), { consecutive_failures: 0 }, "the client's leaving is none of the target's");
  const timedOut = admitSideCall(registry, 'mistral', policy);
  timedOut.report({ status: 200 });
  timedOut.reportBody(new GatewayError('GW_ERR_UPSTREAM_TIMEOUT'));
  timedOut.release();
  t.match(breaker.snapshot(settings), { consecutive_failures: 1 }, "the call's bound running out mid-body is a failure");
  const next = admitSideCall(registry, 'mistral', policy);
  next.report(failure);
  next.release();
  t.equal(breaker.state(settings), 'open', 'and counts toward opening the breaker as any failure does');
});
