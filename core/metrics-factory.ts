/**
 * Get-or-create access to the gateway's Prometheus registry. A plugin loaded twice (a
 * reload, or two instances) gets the metric it registered the first time instead of
 * prom-client's "already registered" error.
 */
import { Counter, Gauge, Histogram, type Aggregator, type Registry } from 'prom-client';

export interface MetricSpec<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  /** How a cluster's workers combine (default `sum`); `max` keeps a 0/1 info gauge at 1. */
  aggregator?: Aggregator;
}
export interface HistogramSpec<L extends string> extends MetricSpec<L> {
  buckets?: number[];
}

export interface MetricsFactory {
  counter<L extends string = string>(spec: MetricSpec<L>): Counter<L>;
  gauge<L extends string = string>(spec: MetricSpec<L>): Gauge<L>;
  histogram<L extends string = string>(spec: HistogramSpec<L>): Histogram<L>;
  readonly registry: Registry;
}

export function createMetricsFactory(registry: Registry): MetricsFactory {
  function getOrCreate<M>(kind: new (config: never) => M, spec: MetricSpec<string> & { buckets?: number[] }): M {
    const existing = registry.getSingleMetric(spec.name);
    if (existing) {
      if (!(existing instanceof kind)) throw new Error(`metric ${spec.name} already exists with another type`);
      return existing as M;
    }
    const config = { ...spec, labelNames: spec.labelNames ? [...spec.labelNames] : [], registers: [registry] };
    return new kind(config as never);
  }
  return {
    registry,
    counter: (spec) => getOrCreate(Counter, spec),
    gauge: (spec) => getOrCreate(Gauge, spec),
    histogram: (spec) => getOrCreate(Histogram, spec),
  } as MetricsFactory;
}
