/**
 * The gateway's metrics as they were recorded before the fast series (core/metrics/):
 * prom-client label children, cached per (route, provider, status class). Kept verbatim
 * but for its name and imports, as the reference GatewayMetrics' `/metrics` text is
 * compared with (test/core/gateway-metrics.test.ts) and as the "before" of
 * bench/metrics-micro.ts.
 */
import { collectDefaultMetrics, Registry, type Counter, type Gauge, type Histogram } from '../../core/deps/prom-client.js';
import { createMetricsFactory, type MetricsFactory } from '../../core/metrics-factory.js';
import type { TokenUsage } from '../../core/types.js';

/** Fine enough below a millisecond to show the gateway's own overhead. */
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Above this many (provider, model) pairs, new models are counted under `model="other"`. */
const MAX_MODEL_SERIES = 500;

interface Inc {
  inc(value?: number): void;
}
interface Observe {
  observe(value: number): void;
}
interface RouteSeries {
  requests: Map<string, Inc>;
  duration: Observe;
  overhead: Observe;
  ttfb: Observe;
}
interface TokenSeries {
  input: Inc;
  output: Inc;
  cacheWrite: Inc;
  cacheRead: Inc;
}

function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

export class PromClientGatewayMetrics {
  readonly registry = new Registry();
  readonly factory: MetricsFactory = createMetricsFactory(this.registry);
  readonly requests: Counter<'route' | 'provider' | 'status_class'>;
  readonly duration: Histogram<'route' | 'provider'>;
  readonly overhead: Histogram<'route'>;
  readonly ttfb: Histogram<'route' | 'provider'>;
  readonly inFlight: Gauge;
  readonly tokens: Counter<'provider' | 'model' | 'direction'>;
  readonly upstreamErrors: Counter<'provider' | 'kind'>;
  /** Added with the fast series in place (the families are compared in order): as prom-client shows it. */
  readonly uploadBytes: Counter<'route' | 'provider'>;
  readonly configLoads: Counter<'result'>;
  readonly configInfo: Gauge<'hash'>;
  private currentHash: string | undefined;
  private readonly series = new Map<string, RouteSeries>();
  private readonly tokenSeries = new Map<string, TokenSeries>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const f = this.factory;
    this.requests = f.counter({ name: 'gateway_requests_total', help: 'Requests by route, provider and status class', labelNames: ['route', 'provider', 'status_class'] });
    this.duration = f.histogram({ name: 'gateway_request_duration_seconds', help: 'Time from arrival to last byte', labelNames: ['route', 'provider'], buckets: DURATION_BUCKETS });
    this.overhead = f.histogram({ name: 'gateway_overhead_seconds', help: 'Time spent in the gateway itself, upstream wait excluded', labelNames: ['route'], buckets: OVERHEAD_BUCKETS });
    this.ttfb = f.histogram({ name: 'gateway_time_to_first_byte_seconds', help: 'Time from arrival to the response head', labelNames: ['route', 'provider'], buckets: DURATION_BUCKETS });
    this.inFlight = f.gauge({ name: 'gateway_in_flight_requests', help: 'Requests being served now' });
    this.tokens = f.counter({ name: 'gateway_tokens_total', help: 'Tokens by provider, model and direction (input, output, cache_write, cache_read)', labelNames: ['provider', 'model', 'direction'] });
    this.upstreamErrors = f.counter({ name: 'gateway_upstream_errors_total', help: 'Upstream failures by provider and kind', labelNames: ['provider', 'kind'] });
    this.uploadBytes = f.counter({ name: 'gateway_upload_bytes_total', help: 'File upload bytes streamed to the upstream, by route and provider, counted as they pass', labelNames: ['route', 'provider'] });
    this.configLoads = f.counter({ name: 'gateway_config_loads_total', help: 'Config loads by result (success, failure)', labelNames: ['result'] });
    // Across workers: one series per hash at 1 (during a reload both hashes show), not the worker count.
    this.configInfo = f.gauge({ name: 'gateway_config_info', help: 'The loaded config, by the sha256 of its file (first 16 hex digits)', labelNames: ['hash'], aggregator: 'max' });
    f.counter({ name: 'gateway_connections_refused_total', help: 'Client connections refused at accept because server.max_connections were open' });
    f.counter({ name: 'gateway_overload_refusals_total', help: 'Requests refused with 503 GW_ERR_OVERLOADED, by reason (body_bytes: server.max_inflight_body_bytes)', labelNames: ['reason'] }).inc({ reason: 'body_bytes' }, 0);
    f.gauge({ name: 'gateway_request_body_bytes_in_flight', help: 'Request-body bytes held across requests now (server.max_inflight_body_bytes caps them)', collect() { this.set(0); } });
    this.configLoads.inc({ result: 'success' }, 0);
    this.configLoads.inc({ result: 'failure' }, 0);
  }

  /** Record one finished request. Label children are cached: no label hashing per request. */
  recordRequest(route: string, provider: string, status: number, durationS: number, overheadS: number, ttfbS: number | undefined): void {
    const key = route + '\0' + provider;
    let s = this.series.get(key);
    if (!s) {
      s = {
        requests: new Map(),
        duration: this.duration.labels(route, provider),
        overhead: this.overhead.labels(route),
        ttfb: this.ttfb.labels(route, provider),
      };
      this.series.set(key, s);
    }
    const cls = statusClass(status);
    let counter = s.requests.get(cls);
    if (!counter) s.requests.set(cls, (counter = this.requests.labels(route, provider, cls)));
    counter.inc();
    s.duration.observe(durationS);
    s.overhead.observe(overheadS);
    if (ttfbS !== undefined) s.ttfb.observe(ttfbS);
  }

  /** Count tokens by direction. Distinct models per provider are capped so clients cannot mint series. */
  recordTokens(provider: string, model: string, usage: TokenUsage): void {
    const key = provider + '\0' + model;
    let t = this.tokenSeries.get(key);
    if (!t) {
      const label = this.tokenSeries.size < MAX_MODEL_SERIES ? model : 'other';
      const of = (direction: string) => this.tokens.labels(provider, label, direction);
      t = { input: of('input'), output: of('output'), cacheWrite: of('cache_write'), cacheRead: of('cache_read') };
      if (label === model) this.tokenSeries.set(key, t);
    }
    if (usage.inputTokens) t.input.inc(usage.inputTokens);
    if (usage.outputTokens) t.output.inc(usage.outputTokens);
    if (usage.cacheCreationTokens) t.cacheWrite.inc(usage.cacheCreationTokens);
    if (usage.cacheReadTokens) t.cacheRead.inc(usage.cacheReadTokens);
  }

  setConfigHash(hash: string): void {
    const label = hash.slice(0, 16);
    if (this.currentHash === label) return;
    if (this.currentHash !== undefined) this.configInfo.remove({ hash: this.currentHash });
    this.configInfo.set({ hash: label }, 1);
    this.currentHash = label;
  }
}
