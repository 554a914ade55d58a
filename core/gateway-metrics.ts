/**
 * The gateway's own metrics. The per-request ones are fast series (core/metrics/): their
 * label children are resolved once per (route, provider, status class) and kept here, so a
 * request's accounting is two Map hits and a few adds, with no label validation or hashing.
 */
import { collectDefaultMetrics, Registry, type Counter, type Gauge } from './deps/prom-client.js';
import { createMetricsFactory, type MetricsFactory } from './metrics-factory.js';
import type { CounterChild, FastCounter } from './metrics/fast-counter.js';
import type { FastHistogram, HistogramChild } from './metrics/fast-histogram.js';
import { ModelSeries } from './metrics/model-series.js';
import type { TokenUsage } from './types.js';

/** Fine enough below a millisecond to show the gateway's own overhead. */
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];
/** How often Node's default `nodejs_eventloop_lag_*` metrics sample the event loop. */
const EVENT_LOOP_SAMPLE_MS = 100;
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** `status_class` by `statusIndex()`. */
const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

interface RouteSeries {
  /** By `statusIndex()`, resolved on first use. */
  readonly requests: Array<CounterChild | undefined>;
  readonly duration: HistogramChild;
  readonly overhead: HistogramChild;
  readonly ttfb: HistogramChild;
}
interface TokenSeries {
  readonly input: CounterChild;
  readonly output: CounterChild;
  readonly cacheWrite: CounterChild;
  readonly cacheRead: CounterChild;
}

/** The index of a status's class in STATUS_CLASSES, without building its name. */
function statusIndex(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly factory: MetricsFactory = createMetricsFactory(this.registry);
  readonly requests: FastCounter<'route' | 'provider' | 'status_class'>;
  readonly duration: FastHistogram<'route' | 'provider'>;
  readonly overhead: FastHistogram<'route'>;
  readonly ttfb: FastHistogram<'route' | 'provider'>;
  readonly inFlight: Gauge;
  readonly tokens: FastCounter<'provider' | 'model' | 'direction'>;
  readonly upstreamErrors: FastCounter<'provider' | 'kind'>;
  /** Upload bodies as they pass to the upstream; its child is bound once per upload (core/upload-body.ts). */
  readonly uploadBytes: FastCounter<'route' | 'provider'>;
  readonly configLoads: Counter<'result'>;
  /** Client connections refused at accept past `server.max_connections`. */
  readonly connectionsRefused: Counter;
  /** Requests refused 503 `GW_ERR_OVERLOADED` by `server.max_inflight_body_bytes`. */
  readonly overloadRefusals: Counter<'reason'>;
  readonly configInfo: Gauge<'hash'>;
  private currentHash: string | undefined;
  /** route → provider → series: two lookups on strings the router already holds, no key to build. */
  private readonly series = new Map<string, Map<string, RouteSeries>>();
  /** By (provider, model), the client's model capped: past the cap, `model="other"`. */
  private readonly tokenSeries = new ModelSeries<TokenSeries>((provider, model) => this.tokenChildren(provider, model));

  /** @param bodyBytesHeld reads the request-body bytes held now (core/body-budget.ts), at each scrape. */
  constructor(bodyBytesHeld: () => number = () => 0) {
    // The event-loop lag histogram samples on a timer of its own: prom-client's 10 ms wakes an
    // idle gateway 100 times a second (158 wake-ups a second in all, 70 at 100 ms). A sample
    // still measures the whole delay of its turn; only the number of samples falls.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    const f = this.factory;
    this.requests = f.fastCounter({ name: 'gateway_requests_total', help: 'Requests by route, provider and status class', labelNames: ['route', 'provider', 'status_class'] });
    this.duration = f.fastHistogram({ name: 'gateway_request_duration_seconds', help: 'Time from arrival to last byte', labelNames: ['route', 'provider'], buckets: DURATION_BUCKETS });
    this.overhead = f.fastHistogram({ name: 'gateway_overhead_seconds', help: 'Time spent in the gateway itself, upstream wait excluded', labelNames: ['route'], buckets: OVERHEAD_BUCKETS });
    this.ttfb = f.fastHistogram({ name: 'gateway_time_to_first_byte_seconds', help: 'Time from arrival to the response head', labelNames: ['route', 'provider'], buckets: DURATION_BUCKETS });
    this.inFlight = f.gauge({ name: 'gateway_in_flight_requests', help: 'Requests being served now' });
    this.tokens = f.fastCounter({ name: 'gateway_tokens_total', help: 'Tokens by provider, model and direction (input, output, cache_write, cache_read)', labelNames: ['provider', 'model', 'direction'] });
    this.upstreamErrors = f.fastCounter({ name: 'gateway_upstream_errors_total', help: 'Upstream failures by provider and kind', labelNames: ['provider', 'kind'] });
    this.uploadBytes = f.fastCounter({ name: 'gateway_upload_bytes_total', help: 'File upload bytes streamed to the upstream, by route and provider, counted as they pass', labelNames: ['route', 'provider'] });
    this.configLoads = f.counter({ name: 'gateway_config_loads_total', help: 'Config loads by result (success, failure)', labelNames: ['result'] });
    // Across workers: one series per hash at 1 (during a reload both hashes show), not the worker count.
    this.configInfo = f.gauge({ name: 'gateway_config_info', help: 'The loaded config, by the sha256 of its file (first 16 hex digits)', labelNames: ['hash'], aggregator: 'max' });
    this.connectionsRefused = f.counter({ name: 'gateway_connections_refused_total', help: 'Client connections refused at accept because server.max_connections were open' });
    // A 503 of the gateway's own, which gateway_requests_total cannot tell from an upstream's.
    this.overloadRefusals = f.counter({ name: 'gateway_overload_refusals_total', help: 'Requests refused with 503 GW_ERR_OVERLOADED, by reason (body_bytes: server.max_inflight_body_bytes)', labelNames: ['reason'] });
    f.gauge({
      name: 'gateway_request_body_bytes_in_flight',
      help: 'Request-body bytes held across requests now (server.max_inflight_body_bytes caps them)',
      collect() {
        this.set(bodyBytesHeld());
      },
    });
    this.configLoads.inc({ result: 'success' }, 0);
    this.configLoads.inc({ result: 'failure' }, 0);
    this.overloadRefusals.inc({ reason: 'body_bytes' }, 0); // at 0 from the start, so increase() sees the first
  }

  /** Record one finished request: after the first request of a (route, provider), lookups and adds only. */
  recordRequest(route: string, provider: string, status: number, durationS: number, overheadS: number, ttfbS: number | undefined): void {
    let byProvider = this.series.get(route);
    if (!byProvider) this.series.set(route, (byProvider = new Map()));
    let s = byProvider.get(provider);
    if (!s) {
      s = {
        requests: [],
        duration: this.duration.labels(route, provider),
        overhead: this.overhead.labels(route),
        ttfb: this.ttfb.labels(route, provider),
      };
      byProvider.set(provider, s);
    }
    const cls = statusIndex(status);
    (s.requests[cls] ??= this.requests.labels(route, provider, STATUS_CLASSES[cls])).inc();
    s.duration.observe(durationS);
    s.overhead.observe(overheadS);
    if (ttfbS !== undefined) s.ttfb.observe(ttfbS);
  }

  /** Count tokens by direction. Distinct models are capped so clients cannot mint series. */
  recordTokens(provider: string, model: string, usage: TokenUsage): void {
    const t = this.tokenSeries.get(provider, model);
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

  private tokenChildren(provider: string, model: string): TokenSeries {
    const of = (direction: string) => this.tokens.labels(provider, model, direction);
    return { input: of('input'), output: of('output'), cacheWrite: of('cache_write'), cacheRead: of('cache_read') };
  }
}
