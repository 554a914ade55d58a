/**
 * A histogram for the hot path: each child holds its own bucket counts, sum and count, so
 * `observe()` is a short scan of the bounds and three adds. What `/metrics` and the cluster
 * aggregator see is what prom-client's Histogram would show for the same observations.
 */
import { FastChild, FastMetric, type FastMetricSpec, type LabelSet, type MetricSnapshot } from './fast-metric.js';

/** prom-client's default buckets, for a spec that names none. */
const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const NO_LABELS: readonly string[] = [];
const NONE: LabelSet<string> = Object.freeze({});
const INF = Object.freeze({ le: '+Inf' });

export interface FastHistogramSpec<L extends string> extends FastMetricSpec<L> {
  /** Upper bounds, finite and increasing; `+Inf` is implied. */
  buckets?: readonly number[];
}

/**
 * One label set of a {@link FastHistogram}, resolved once and kept by the caller.
 * @example
 * const latency = durations.labels('anthropic'); // once
 * latency.observe(seconds);                      // per request
 */
export interface HistogramChild {
  /** Count one observation. A NaN or infinite value throws. */
  observe(value: number): void;
}

/** One sample, as prom-client's Histogram lists it in `get()`. */
export interface HistogramSample {
  value: number;
  metricName: string;
  exemplar: null | undefined;
  labels: Readonly<Record<string, string | number>>;
}

/** One sample as prom-client's Histogram hands it to the Registry's text formatter. */
interface TextSample {
  labels: Readonly<Record<string, string | number>>;
  sharedLabels: LabelSet<string>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

class HistogramSeries extends FastChild implements HistogramChild {
  /** Observations per bucket, not cumulative; above the last bound only `count` has them. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  /** The metric's bounds, shared by its children; a typed array (a frozen array is half as fast to scan). */
  constructor(labels: LabelSet<string>, order: FastChild[], private readonly bounds: Float64Array) {
    super(labels, order);
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (!this.shown) this.show();
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    if (i < bounds.length) this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  clear(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * A histogram whose label children are resolved once, for metrics recorded on every request.
 * Every label is given on every call; a label set is checked for labels the metric does not
 * have the first time it is seen.
 * @example
 * const duration = env.metrics.fastHistogram({ name: 'gateway_x_seconds', help: 'Time in x', labelNames: ['provider'], buckets: [0.001, 0.01, 0.1, 1] });
 * const child = duration.labels('anthropic');             // resolve once, keep it
 * child.observe(0.004);                                   // per request
 * duration.observe({ provider: ctx.provider }, seconds);  // or by label set
 */
export class FastHistogram<L extends string = string> extends FastMetric<L, HistogramSeries> {
  readonly type = 'histogram';
  readonly upperBounds: readonly number[];
  private readonly bounds: Float64Array;
  private readonly bucketName: string;
  private readonly sumName: string;
  private readonly countName: string;
  /** One `{ le }` per bound, shared by every child's text samples. */
  private readonly leLabels: ReadonlyArray<Readonly<{ le: number }>>;

  constructor(spec: FastHistogramSpec<L>) {
    super(spec);
    if (this.labelNames.includes('le' as L)) throw new Error('le is a reserved label keyword');
    const bounds = spec.buckets ?? DEFAULT_BUCKETS;
    bounds.forEach((b, i) => {
      if (!Number.isFinite(b) || (i > 0 && !(b > bounds[i - 1]))) throw new Error(`histogram ${spec.name}: buckets must be finite and increasing, got [${bounds.join(', ')}]`);
    });
    this.upperBounds = Object.freeze([...bounds]);
    this.bounds = Float64Array.from(bounds);
    this.leLabels = this.upperBounds.map((le) => Object.freeze({ le }));
    this.bucketName = `${spec.name}_bucket`;
    this.sumName = `${spec.name}_sum`;
    this.countName = `${spec.name}_count`;
    // prom-client shows an unlabelled histogram's zero buckets from the start (not after a reset).
    if (this.labelNames.length === 0) this.resolve(NO_LABELS).show();
    this.register(spec.registers);
  }

  /** The child for these label values, in `labelNames` order (or this label set). */
  labels(...values: string[]): HistogramChild;
  labels(labels: LabelSet<L>): HistogramChild;
  labels(...args: string[] | [LabelSet<L>]): HistogramChild {
    return this.resolve(args);
  }

  /** Observe into the unlabelled series, or into the series of a label set. */
  observe(value: number): void;
  observe(labels: LabelSet<L>, value: number): void;
  observe(labelsOrValue: LabelSet<L> | number, value?: number): void {
    if (typeof labelsOrValue === 'object') this.resolveSet(labelsOrValue).observe(value as number);
    else this.resolve(NO_LABELS).observe(labelsOrValue);
  }

  /** Samples with the child's labels folded in: what `getMetricsAsJSON()` sends the cluster primary. */
  async get(): Promise<MetricSnapshot<HistogramSample>> {
    const values: HistogramSample[] = [];
    const bounds = this.upperBounds;
    for (const c of this.visible) {
      let acc = 0;
      for (let i = 0; i < bounds.length; i++) {
        acc += c.counts[i];
        values.push({ value: acc, metricName: this.bucketName, exemplar: null, labels: { le: bounds[i], ...c.labels } });
      }
      values.push({ value: c.count, metricName: this.bucketName, exemplar: null, labels: { le: '+Inf', ...c.labels } });
      values.push({ value: c.sum, metricName: this.sumName, exemplar: undefined, labels: { ...c.labels } });
      values.push({ value: c.count, metricName: this.countName, exemplar: undefined, labels: { ...c.labels } });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Samples with the child's labels apart, as the Registry's text formatter prefers them (it caches their text). */
  async getForPromString(): Promise<MetricSnapshot<TextSample>> {
    const values: TextSample[] = [];
    const le = this.leLabels;
    for (const c of this.visible) {
      let acc = 0;
      for (let i = 0; i < le.length; i++) {
        acc += c.counts[i];
        values.push({ labels: le[i], sharedLabels: c.labels, value: acc, metricName: this.bucketName, exemplar: null });
      }
      values.push({ labels: INF, sharedLabels: c.labels, value: c.count, metricName: this.bucketName, exemplar: null });
      values.push({ labels: NONE, sharedLabels: c.labels, value: c.sum, metricName: this.sumName, exemplar: undefined });
      values.push({ labels: NONE, sharedLabels: c.labels, value: c.count, metricName: this.countName, exemplar: undefined });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  protected create(labels: LabelSet<L>): HistogramSeries {
    return new HistogramSeries(labels, this.visible, this.bounds);
  }
}
