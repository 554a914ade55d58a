/**
 * Cluster aggregation of fast metrics: what each worker sends (`getMetricsAsJSON()`, through
 * JSON) is summed by prom-client's AggregatorRegistry into the text prom-client's own
 * metrics would give; a metric's `aggregator` is honoured; a cluster mixing workers
 * on prom-client metrics with workers on fast ones (a rolling upgrade) still adds up; and
 * a gauge that is a state (a circuit breaker's) is not added up at all.
 */
import t from 'tap';
import { Counter, Histogram, Registry } from '../../../core/deps/prom-client.js';
import { silentLogger } from '../../../core/logger.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { ResilienceRegistry } from '../../../core/resilience/registry.js';
import type { BreakerSettings } from '../../../core/resilience/config.js';
import { FastCounter } from '../../../core/metrics/fast-counter.js';
import { FastHistogram } from '../../../core/metrics/fast-histogram.js';
import { aggregated, NASTY } from '../../helpers/metrics-twins.js';

interface Worker {
  prom: Registry;
  fast: Registry;
}

/** A worker's metrics, both ways, fed this worker's share of the traffic. */
function worker(requests: Array<[route: string, status: string, seconds: number]>): Worker {
  const prom = new Registry();
  const fast = new Registry();
  const counter = { name: 'gateway_requests_total', help: 'Requests', labelNames: ['route', 'status_class'] };
  const histogram = { name: 'gateway_request_duration_seconds', help: 'Duration', labelNames: ['route'], buckets: [0.01, 0.1, 1] };
  const info = { name: 'gateway_build_info', help: 'One per build', labelNames: ['version'], aggregator: 'max' as const };
  const pc = new Counter({ ...counter, registers: [prom] });
  const ph = new Histogram({ ...histogram, registers: [prom] });
  const pi = new Counter({ ...info, registers: [prom] });
  const fc = new FastCounter({ ...counter, registers: [fast] });
  const fh = new FastHistogram({ ...histogram, registers: [fast] });
  const fi = new FastCounter({ ...info, registers: [fast] });
  pi.inc({ version: '1' });
  fi.labels('1').inc();
  for (const [route, status, seconds] of requests) {
    pc.labels(route, status).inc();
    ph.labels(route).observe(seconds);
    fc.labels(route, status).inc();
    fh.labels(route).observe(seconds);
  }
  return { prom, fast };
}

const w1 = worker([['a', '2xx', 0.005], ['a', '2xx', 0.05], [NASTY, '5xx', 3]]);
const w2 = worker([['b', '2xx', 0.5], ['a', '4xx', 0.01], ['a', '2xx', 0.02]]);

t.test('two workers on fast metrics: the same aggregated text as on prom-client', async (t) => {
  const expected = await aggregated([w1.prom, w2.prom]);
  t.equal(await aggregated([w1.fast, w2.fast]), expected);
  t.match(expected, /^gateway_requests_total\{route="a",status_class="2xx"\} 3$/m, 'a series both workers have is summed');
  t.match(expected, /^gateway_request_duration_seconds_bucket\{le="0.01",route="a"\} 2$/m, 'buckets are summed');
  t.match(expected, /^gateway_request_duration_seconds_count\{route="a"\} 4$/m);
  const sum = Number(/^gateway_request_duration_seconds_sum\{route="a"\} (\S+)$/m.exec(expected)?.[1]);
  t.ok(Math.abs(sum - 0.085) < 1e-12, `sums are summed (${sum})`);
  t.match(expected, /^gateway_build_info\{version="1"\} 1$/m, "aggregator 'max': 1, not the worker count");
});

t.test('a cluster mixing prom-client and fast workers adds up the same', async (t) => {
  t.equal(await aggregated([w1.prom, w2.fast]), await aggregated([w1.prom, w2.prom]));
  t.equal(await aggregated([w1.fast, w2.prom]), await aggregated([w1.prom, w2.prom]));
});

t.test('one worker: the aggregated text is the worker text', async (t) => {
  t.equal(await aggregated([w1.fast]), await aggregated([w1.prom]));
});

t.test("gateway_circuit_state across workers is the worst worker's state, not the sum", async (t) => {
  const settings: BreakerSettings = { consecutiveFailures: 1, errorRate: 1, windowMs: 10_000, minRequests: 1, cooldownMs: 0, halfOpenProbes: 1 };
  const workers = [new Registry(), new Registry()];
  const breakers = workers.map((r) => new ResilienceRegistry(createMetricsFactory(r), silentLogger).target('anthropic').breaker);
  const state = async (): Promise<string | undefined> => /^gateway_circuit_state\{target="anthropic"\} (\S+)$/m.exec(await aggregated(workers))?.[1];
  for (const b of breakers) b.record({ ...settings, cooldownMs: 60_000 }, 'failure', false);
  t.equal(await state(), '2', 'open in both: 2 (open), not 4');
  for (const b of breakers) b.state(settings);
  t.equal(await state(), '1', 'half-open in both: 1, not 2 (open)');
  breakers[0].record(settings, 'success', true);
  t.equal(await state(), '1', 'closed in one, half-open in the other: half-open');
});
