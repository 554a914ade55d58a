/**
 * The gateway's own metrics. Label children are cached per (route, provider, status
 * class) so a request's accounting is a few Map hits, not prom-client label hashing.
 */
import { collectDefaultMetrics, Registry, type Counter, type Gauge, type Histogram } from 'prom-client';
import { createMetricsFactory, type MetricsFactory } from './metrics-factory.js';

/** Fine enough below a millisecond to show the gateway's own overhead. */
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly factory: MetricsFactory = createMetricsFactory(this.registry);
  readonly requests: Counter<'route' | 'provider' | 'status_class'>;
  readonly duration: Histogram<'route' | 'provider'>;
  readonly overhead: Histogram<'route'>;
  readonly ttfb: Histogram<'route' | 'provider'>;
  readonly inFlight: Gauge;
  readonly tokens: Counter<'provider' | 'model' | 'direction'>;
  readonly upstreamErrors: Counter<'provider' | 'kind'>;
  readonly configLoads: Counter<'result'>;
  readonly configInfo: Gauge<'hash'>;
  private currentHash: string | undefined;

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
    this.configLoads = f.counter({ name: 'gateway_config_loads_total', help: 'Config loads by result (success, failure)', labelNames: ['result'] });
    this.configInfo = f.gauge({ name: 'gateway_config_info', help: 'The loaded config, by the sha256 of its file (first 16 hex digits)', labelNames: ['hash'] });
    this.configLoads.inc({ result: 'success' }, 0);
    this.configLoads.inc({ result: 'failure' }, 0);
  }

  setConfigHash(hash: string): void {
    const label = hash.slice(0, 16);
    if (this.currentHash === label) return;
    if (this.currentHash !== undefined) this.configInfo.remove({ hash: this.currentHash });
    this.configInfo.set({ hash: label }, 1);
    this.currentHash = label;
  }
}
