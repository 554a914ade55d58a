/**
 * GatewayMetrics on fast series against the same class on prom-client label children (the
 * implementation it replaced, kept in test/helpers): fed the same requests, every gateway_
 * family shows the same text, the families come in the same order, and two workers'
 * registries aggregate to the same text.
 */
import t from 'tap';
import type { Registry } from 'prom-client';
import { GatewayMetrics } from '../../core/gateway-metrics.js';
import type { TokenUsage } from '../../core/types.js';
import { aggregated } from '../helpers/metrics-twins.js';
import { PromClientGatewayMetrics } from '../helpers/prom-client-gateway-metrics.js';

/** What the handler and the gateway call, alike on both. */
interface Recorder {
  recordRequest(route: string, provider: string, status: number, durationS: number, overheadS: number, ttfbS: number | undefined): void;
  recordTokens(provider: string, model: string, usage: TokenUsage): void;
  setConfigHash(hash: string): void;
  readonly inFlight: { inc(): void; dec(): void };
  readonly upstreamErrors: { inc(labels: { provider: string; kind: string }): void };
  readonly configLoads: { inc(labels: { result: string }): void };
  readonly uploadBytes: { labels(route: string, provider: string): { inc(value: number): void } };
  readonly registry: Registry;
}

const usage = (inputTokens: number, outputTokens: number, cacheCreationTokens = 0, cacheReadTokens = 0): TokenUsage => ({ inputTokens, outputTokens, cacheCreationTokens, cacheReadTokens });

/** A worker's traffic: statuses of every class and none, durations on and past the bounds, streams without a first byte. */
function traffic(m: Recorder, seed: number): void {
  m.setConfigHash('0123456789abcdef0123456789abcdef');
  m.configLoads.inc({ result: 'success' });
  const routes: Array<[string, string]> = [['anthropic', 'anthropic'], ['openai', 'openai'], ['unmatched', ''], ['anthropic', 'bedrock'], ['r "odd"\\', 'p\nq']];
  const statuses = [200, 200, 201, 404, 429, 503, 302, 101, 99, 600, 0];
  const seconds = [0.0004, 0.001, 0.0123, 0.25, 1, 299.9, 300, 301, 0];
  for (let i = 0; i < 200; i++) {
    const [route, provider] = routes[(i * 7 + seed) % routes.length];
    m.inFlight.inc();
    const d = seconds[(i + seed) % seconds.length];
    m.recordRequest(route, provider, statuses[(i * 3 + seed) % statuses.length], d, d / 7, i % 4 === 0 ? undefined : d / 2);
    m.inFlight.dec();
    if (i % 5 === 0) m.upstreamErrors.inc({ provider, kind: i % 10 === 0 ? 'timeout' : 'connect' });
    m.recordTokens(provider || 'none', `model-${i % 3}`, usage(i, i % 2, i % 3 === 0 ? 5 : 0, i % 4 === 0 ? 0 : 7));
    if (i % 9 === 0) m.uploadBytes.labels(route, provider || 'none').inc(64 * 1024 + i);
  }
  m.recordTokens('anthropic', 'model-0', usage(0, 0));
  m.recordTokens('openai', 42 as unknown as string, usage(3, 4)); // a model that upstream JSON gave as a number
  m.setConfigHash('fedcba9876543210fedcba9876543210');
}

/** The gateway_ families, name → text, in registry order. */
async function families(registry: Registry): Promise<Array<[string, string]>> {
  const names = registry.getMetricsAsArray().map((m) => m.name).filter((n) => n.startsWith('gateway_'));
  return Promise.all(names.map(async (n): Promise<[string, string]> => [n, await registry.getSingleMetricAsString(n)]));
}

/** The gateway_ blocks of a whole exposition (the process_ and nodejs_ ones differ by the microsecond). */
function gatewayBlocks(text: string): string {
  return text.split('\n\n').filter((b) => b.startsWith('# HELP gateway_')).join('\n\n');
}

t.test('the same families, in the same order, with the same text', async (t) => {
  const fast = new GatewayMetrics();
  const prom = new PromClientGatewayMetrics();
  traffic(fast, 0);
  traffic(prom, 0);
  const expected = await families(prom.registry);
  t.same(fast.registry.getMetricsAsArray().map((m) => m.name), prom.registry.getMetricsAsArray().map((m) => m.name), 'family order, default metrics included');
  t.equal(expected.length, 13);
  for (const [i, [name, text]] of (await families(fast.registry)).entries()) t.equal(text, expected[i][1], name);
  const all = expected.map(([, text]) => text).join('\n');
  t.match(all, /^gateway_requests_total\{route="anthropic",provider="anthropic",status_class="other"\} \d+$/m, 'statuses outside 100-599 are "other"');
  t.match(all, /^gateway_tokens_total\{provider="none",model="model-0",direction="cache_write"\} \d+$/m);
  t.notMatch(all, /model="model-1",direction="cache_write"/, 'a direction never counted has no series');
  t.match(all, /^gateway_tokens_total\{provider="openai",model="42",direction="output"\} 4$/m, 'a non-string model is counted, not thrown');
  t.match(all, /^gateway_config_info\{hash="fedcba9876543210"\} 1$/m);
});

t.test('past 500 (provider, model) pairs, new models count under model="other"', async (t) => {
  const fast = new GatewayMetrics();
  const prom = new PromClientGatewayMetrics();
  for (const m of [fast, prom]) {
    for (let i = 0; i < 520; i++) m.recordTokens(i % 2 ? 'anthropic' : 'openai', `m${i}`, usage(1, 2, 0, 3));
    m.recordTokens('anthropic', 'm1', usage(10, 0)); // one of the first 500: its own series still
    m.recordTokens('openai', 'm518', usage(10, 0)); // past the cap: "other" again
  }
  const text = await fast.registry.getSingleMetricAsString('gateway_tokens_total');
  t.equal(text, await prom.registry.getSingleMetricAsString('gateway_tokens_total'));
  t.match(text, /^gateway_tokens_total\{provider="openai",model="other",direction="input"\} 20$/m);
  t.match(text, /^gateway_tokens_total\{provider="anthropic",model="m1",direction="input"\} 11$/m);
  t.notMatch(text, /model="m500"/);
});

t.test('two workers aggregate to the same text', async (t) => {
  const fast = [new GatewayMetrics(), new GatewayMetrics()];
  const prom = [new PromClientGatewayMetrics(), new PromClientGatewayMetrics()];
  fast.forEach((m, i) => traffic(m, i));
  prom.forEach((m, i) => traffic(m, i));
  const expected = gatewayBlocks(await aggregated(prom.map((m) => m.registry)));
  t.equal(gatewayBlocks(await aggregated(fast.map((m) => m.registry))), expected);
  t.match(expected, /^gateway_config_info\{hash="fedcba9876543210"\} 1$/m, "config info stays at 1 (aggregator 'max')");
  t.match(expected, /^gateway_in_flight_requests 0$/m);
});
