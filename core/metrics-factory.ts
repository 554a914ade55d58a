/**
 * Get-or-create access to the gateway's Prometheus registry. A plugin loaded twice (a
 * reload, or two instances) gets the metric it registered the first time instead of
 * prom-client's "already registered" error.
 */
import type { Aggregator } from 'prom-client';
import { Counter, Gauge, Histogram, type Registry } from './deps/prom-client.js';
import { FastCounter } from './metrics/fast-counter.js';
import { FastHistogram } from './metrics/fast-histogram.js';

export interface MetricSpec<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  /**
   * How a cluster's workers combine (default `sum`, right for amounts: requests in flight,
   * bytes held). A gauge that is a state is not an amount: `max` keeps a 0/1 info gauge at 1
   * or reads the worst of several states; `min` makes an up-gauge 1 only while all are up.
   */
  aggregator?: Aggregator;
}
export interface HistogramSpec<L extends string> extends MetricSpec<L> {
  buckets?: number[];
}
export interface GaugeSpec<L extends string> extends MetricSpec<L> {
  /**
   * Runs before every scrape, to set the gauge from what it measures (entries a cache holds)
   * rather than after every change. The first registration's is kept (get-or-create), so it
   * must read runtime-lifetime state (`env.shared`), not one config generation's.
   * @example
   * env.metrics.gauge({ name: 'gateway_x_entries', help: 'Entries held', collect() { this.set(table.size); } });
   */
  collect?: (this: Gauge<L>) => void;
}

export interface MetricsFactory {
  counter<L extends string = string>(spec: MetricSpec<L>): Counter<L>;
  gauge<L extends string = string>(spec: GaugeSpec<L>): Gauge<L>;
  histogram<L extends string = string>(spec: HistogramSpec<L>): Histogram<L>;
  /**
   * A counter for code that runs on every request. Same `/metrics` text and cluster
   * aggregation as `counter()`, but a label child resolved once makes `inc()` a number add
   * (prom-client validates and hashes the labels on every call, even through a child).
   * @example
   * const hits = env.metrics.fastCounter({ name: 'gateway_x_hits_total', help: 'Hits by provider', labelNames: ['provider'] });
   * const hit = hits.labels('anthropic'); // in create(), or cached per label value
   * hit.inc();                            // per request
   */
  fastCounter<L extends string = string>(spec: MetricSpec<L>): FastCounter<L>;
  /**
   * A histogram for code that runs on every request; see `fastCounter()`.
   * @example
   * const latency = env.metrics.fastHistogram({ name: 'gateway_x_seconds', help: 'Time in x', labelNames: ['result'], buckets: [0.001, 0.01, 0.1] });
   * const ok = latency.labels('ok'); // once
   * ok.observe(seconds);             // per request
   */
  fastHistogram<L extends string = string>(spec: HistogramSpec<L>): FastHistogram<L>;
  readonly registry: Registry;
}

export function createMetricsFactory(registry: Registry): MetricsFactory {
  function getOrCreate<M>(kind: new (config: never) => M, spec: MetricSpec<string> & { buckets?: number[] }): M {
    const existing: unknown = registry.getSingleMetric(spec.name);
    if (existing) {
      if (!(existing instanceof kind)) throw new Error(`metric ${spec.name} already exists with another type`);
      return existing;
    }
    const config = { ...spec, labelNames: spec.labelNames ? [...spec.labelNames] : [], registers: [registry] };
    return new kind(config as never);
  }
  return {
    registry,
    counter: (spec) => getOrCreate(Counter, spec),
    gauge: (spec) => getOrCreate(Gauge, spec),
    histogram: (spec) => getOrCreate(Histogram, spec),
    fastCounter: (spec) => getOrCreate(FastCounter, spec),
    fastHistogram: (spec) => getOrCreate(FastHistogram, spec),
  } as MetricsFactory;
}
