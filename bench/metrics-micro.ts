/**
 * What recording a request's metrics costs, in-process: GatewayMetrics on fast series
 * against the same class on prom-client label children (test/helpers/), and a plugin's
 * per-request `inc({ labels })` on `env.metrics.counter()` against `fastCounter()`.
 * Before and after run interleaved in the same process; each figure is the median of
 * the rounds, in ns per call (wall clock, so a busy machine shows as spread, not bias).
 *
 *   npx tsx bench/metrics-micro.ts [--iterations 100000] [--rounds 7]
 */
import { parseArgs } from 'node:util';
import { Registry } from '../core/deps/prom-client.js';
import { GatewayMetrics } from '../core/gateway-metrics.js';
import { createMetricsFactory } from '../core/metrics-factory.js';
import type { TokenUsage } from '../core/types.js';
import { PromClientGatewayMetrics } from '../test/helpers/prom-client-gateway-metrics.js';
import { interleavedMedians } from './lib/micro.js';

const { values: args } = parseArgs({ options: { iterations: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '7' } } });
const N = Number(args.iterations);
const ROUNDS = Number(args.rounds);

// A mix like the gateway's: a few routes, mostly 2xx, durations across the buckets, some streams without a first byte.
const routes: Array<[string, string]> = [['anthropic', 'anthropic'], ['openai', 'openai'], ['bedrock', 'bedrock'], ['unified', 'anthropic']];
const statuses = [200, 200, 200, 200, 200, 200, 429, 200, 502, 200, 200, 404];
const seconds = [0.0012, 0.35, 2.1, 0.045, 7.5, 0.8, 0.012, 31];
const models = ['claude-sonnet-5-5', 'gpt-5', 'claude-haiku-4-6'];
const usages: TokenUsage[] = [
  { inputTokens: 1200, outputTokens: 300, cacheCreationTokens: 0, cacheReadTokens: 0 },
  { inputTokens: 40, outputTokens: 900, cacheCreationTokens: 2000, cacheReadTokens: 12000 },
];

/** Precomputed arguments, so the loops time the calls and little else. */
const MASK = 4095;
const requests = Array.from({ length: MASK + 1 }, (_, i) => {
  const [route, provider] = routes[i % routes.length];
  const d = seconds[i % seconds.length];
  return { route, provider, status: statuses[i % statuses.length], d, o: d * 0.0004, ttfb: i % 5 === 0 ? undefined : d * 0.3 };
});
const tokens = Array.from({ length: MASK + 1 }, (_, i) => ({ provider: routes[i % routes.length][1], model: models[i % models.length], usage: usages[i % usages.length] }));

/** A filter's `counter.inc({ provider, model }, usd)` per request (the cost filter's shape). */
function pluginCounter(fast: boolean): (n: number) => void {
  const f = createMetricsFactory(new Registry());
  const spec = { name: 'gateway_bench_usd_total', help: 'x', labelNames: ['provider', 'model'] as const };
  if (fast) {
    const c = f.fastCounter(spec);
    return (n) => {
      for (let i = 0; i < n; i++) c.inc({ provider: tokens[i & MASK].provider, model: tokens[i & MASK].model }, 0.0012);
    };
  }
  const c = f.counter(spec);
  return (n) => {
    for (let i = 0; i < n; i++) c.inc({ provider: tokens[i & MASK].provider, model: tokens[i & MASK].model }, 0.0012);
  };
}

function nsPerCall(run: (n: number) => void): number {
  const start = process.hrtime.bigint();
  run(N);
  return Number(process.hrtime.bigint() - start) / N;
}

const before = new PromClientGatewayMetrics();
const after = new GatewayMetrics();
// One loop per side on purpose: a call site shared by both classes turns polymorphic and
// charges each side ~30 ns that the gateway's handler, which calls one class, never pays.
const rows: Array<[string, (n: number) => void, (n: number) => void]> = [
  [
    'recordRequest (1 counter + 3 histograms)',
    (n) => {
      for (let i = 0; i < n; i++) {
        const r = requests[i & MASK];
        before.recordRequest(r.route, r.provider, r.status, r.d, r.o, r.ttfb);
      }
    },
    (n) => {
      for (let i = 0; i < n; i++) {
        const r = requests[i & MASK];
        after.recordRequest(r.route, r.provider, r.status, r.d, r.o, r.ttfb);
      }
    },
  ],
  [
    'recordTokens (2 or 4 counters)',
    (n) => {
      for (let i = 0; i < n; i++) {
        const t = tokens[i & MASK];
        before.recordTokens(t.provider, t.model, t.usage);
      }
    },
    (n) => {
      for (let i = 0; i < n; i++) {
        const t = tokens[i & MASK];
        after.recordTokens(t.provider, t.model, t.usage);
      }
    },
  ],
  ['plugin inc({ provider, model }, v)', pluginCounter(false), pluginCounter(true)],
];

process.stdout.write(`| per call | prom-client children (ns) | fast series (ns) | × |\n|---|---:|---:|---:|\n`);
for (const [name, slow, fast] of rows) {
  slow(N); // warm up: children resolved, code optimised
  fast(N);
  const [ma, mb] = interleavedMedians(ROUNDS, [() => nsPerCall(slow), () => nsPerCall(fast)]);
  process.stdout.write(`| ${name} | ${ma.toFixed(0)} | ${mb.toFixed(1)} | ${(ma / mb).toFixed(0)} |\n`);
}
process.stdout.write(`\nMedian of ${ROUNDS} rounds of ${N} calls, interleaved; node ${process.version}.\n`);
