/**
 * A counter for the hot path: resolve the child for a label set once and keep it; its
 * `inc()` is a number add. What `/metrics` and the cluster aggregator see is what
 * prom-client's Counter would show for the same calls.
 */
import { FastChild, FastMetric, type FastMetricSpec, type LabelSet, type MetricSnapshot } from './fast-metric.js';

/**
 * One series of a {@link FastCounter}, resolved once and kept by the caller.
 * @example
 * const served = requests.labels('anthropic', '2xx'); // once
 * served.inc();                                       // per request
 */
export interface CounterChild {
  /** Add `value` (default 1). A negative, NaN or infinite value throws. */
  inc(value?: number): void;
}

/** One sample, as prom-client's Counter lists it in `get()`. */
export interface CounterSample {
  value: number;
  labels: LabelSet<string>;
}

const NO_LABELS: readonly string[] = [];

class CounterSeries extends FastChild implements CounterChild {
  value = 0;

  inc(value = 1): void {
    if (!(Number.isFinite(value) && value >= 0)) throw new TypeError(`counter increment must be a finite number >= 0, got ${value}`);
    if (!this.shown) this.show();
    this.value += value;
  }

  clear(): void {
    this.value = 0;
  }
}

/**
 * A counter whose label children are resolved once, for metrics recorded on every request.
 * Every label is given on every call; a label set is checked for labels the metric does not
 * have the first time it is seen.
 * @example
 * const hits = env.metrics.fastCounter({ name: 'gateway_x_hits_total', help: 'Hits by provider', labelNames: ['provider'] });
 * const anthropicHits = hits.labels('anthropic'); // resolve once, keep it
 * anthropicHits.inc();                            // per request: a number add
 * hits.inc({ provider: ctx.provider }, 1);        // or by label set: one Map lookup per label
 */
export class FastCounter<L extends string = string> extends FastMetric<L, CounterSeries> {
  readonly type = 'counter';

  constructor(spec: FastMetricSpec<L>) {
    super(spec);
    // prom-client shows an unlabelled counter at 0 from the start.
    if (this.labelNames.length === 0) this.resolve(NO_LABELS).inc(0);
    this.register(spec.registers);
  }

  /** The child for these label values, in `labelNames` order (or this label set). */
  labels(...values: string[]): CounterChild;
  labels(labels: LabelSet<L>): CounterChild;
  labels(...args: string[] | [LabelSet<L>]): CounterChild {
    return this.resolve(args);
  }

  /** Add to the unlabelled series, or to the series of a label set. */
  inc(value?: number): void;
  inc(labels: LabelSet<L>, value?: number): void;
  inc(labelsOrValue?: LabelSet<L> | number, value?: number): void {
    if (typeof labelsOrValue === 'object') this.resolveSet(labelsOrValue).inc(value);
    else this.resolve(NO_LABELS).inc(labelsOrValue);
  }

  override reset(): void {
    super.reset();
    if (this.labelNames.length === 0) this.resolve(NO_LABELS).inc(0);
  }

  async get(): Promise<MetricSnapshot<CounterSample>> {
    return {
      help: this.help,
      name: this.name,
      type: this.type,
      values: this.visible.map((c) => ({ value: c.value, labels: c.labels })),
      aggregator: this.aggregator,
    };
  }

  protected create(labels: LabelSet<L>): CounterSeries {
    return new CounterSeries(labels, this.visible);
  }
}
