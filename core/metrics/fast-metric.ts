/**
 * What the fast metrics share: the face prom-client's Registry reads (`name`, `help`, `type`,
 * `aggregator`, `get()`, `reset()`), and the index of label children. A child is resolved once
 * per label set — one Map per label, no key string — and kept by the caller, so recording is
 * arithmetic on the child, with none of prom-client's per-call label validation and hashing.
 *
 * A child joins the exposition the first time it is recorded to, which is when prom-client's
 * own metrics create a series: the text, the series order and the cluster aggregation come
 * out as they would from a prom-client Counter or Histogram fed the same calls.
 */
import type { Aggregator, Metric, Registry } from 'prom-client';

/** Every label of a metric, by name, each a string. */
export type LabelSet<L extends string> = Readonly<Record<L, string>>;

/** How a fast metric is declared: as prom-client's, with every label given on every record. */
export interface FastMetricSpec<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  /** How a cluster's workers combine (default `sum`). */
  aggregator?: Aggregator;
  /** Registries to register with (none by default, unlike prom-client's global one). */
  registers?: readonly Registry[];
}

/** A metric as `registry.getMetricsAsJSON()` hands it to the cluster aggregator. */
export interface MetricSnapshot<V> {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: V[];
  aggregator: Aggregator;
}

/** One series (or, for a histogram, one family of series) of a metric. */
export abstract class FastChild {
  /** In the exposition: recorded to since the metric was made, reset or this child removed. */
  shown = false;

  constructor(
    readonly labels: LabelSet<string>,
    private readonly order: FastChild[],
  ) {}

  /** Zero the values (the metric takes the child out of the exposition). */
  abstract clear(): void;

  /** Join the exposition (a child's first record does this). */
  show(): void {
    this.shown = true;
    this.order.push(this);
  }
}

/**
 * A label value as a string. The types ask for strings, but values can come from upstream
 * JSON (a model name): prom-client prints whatever it is given, and recording must not
 * throw in the middle of a request, so a stray number becomes the same text it would.
 */
function text(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export abstract class FastMetric<L extends string, C extends FastChild> {
  /** Writable: prom-client's Registry renames counters when it serves OpenMetrics. */
  name: string;
  readonly help: string;
  readonly aggregator: Aggregator;
  readonly labelNames: readonly L[];
  abstract readonly type: 'counter' | 'histogram';
  /** The children in the exposition, in the order they were first recorded to. */
  protected readonly visible: C[] = [];
  private readonly root = new Map<string, unknown>();
  private only: C | undefined;
  private readonly scratch: string[];

  protected constructor(spec: FastMetricSpec<L>) {
    if (!spec.help) throw new Error('Missing mandatory help parameter');
    if (!spec.name || !METRIC_NAME.test(spec.name)) throw new Error(`Invalid metric name: ${spec.name}`);
    const names = spec.labelNames ?? [];
    for (const n of names) if (!LABEL_NAME.test(n)) throw new Error(`Invalid label name: ${n} (metric ${spec.name})`);
    if (new Set(names).size !== names.length) throw new Error(`Duplicate label name in metric ${spec.name}`);
    this.name = spec.name;
    this.help = spec.help;
    this.aggregator = spec.aggregator ?? 'sum';
    this.labelNames = Object.freeze([...names]);
    this.scratch = new Array<string>(names.length);
  }

  /** Registered last, by the subclass, once it can answer `get()`. */
  protected register(registers: readonly Registry[] | undefined): void {
    // Registry is typed for prom-client's own classes; at run time it reads only this metric's
    // name, help, type, aggregator, get() (or getForPromString()) and reset().
    for (const r of registers ?? []) r.registerMetric(this as unknown as Metric);
  }

  /** Make the child for a label set not seen before (its values zero, not yet shown). */
  protected abstract create(labels: LabelSet<L>): C;

  /** The child for these values (in `labelNames` order) or this label set, made on first use. */
  protected resolve(args: readonly unknown[]): C {
    if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null) return this.resolveSet(args[0] as LabelSet<L>);
    return this.find(args as readonly string[]) ?? this.add(args as readonly string[]);
  }

  /** The child for a label set; labels not in `labelNames` are refused when the set is first seen. */
  protected resolveSet(labels: LabelSet<L>): C {
    const names = this.labelNames;
    const values = this.scratch;
    for (let i = 0; i < names.length; i++) values[i] = labels[names[i]];
    const found = this.find(values);
    if (found) return found;
    for (const key of Object.keys(labels)) if (!names.includes(key as L)) throw new Error(`Added label "${key}" is not included in initial labelset: [ ${names.map((n) => `'${n}'`).join(', ')} ] (metric ${this.name})`);
    return this.add(values);
  }

  /** Take a series out of the exposition; a child still held by a caller starts again at zero. */
  remove(...args: string[] | [LabelSet<L>]): void {
    const child = args.length === 1 && typeof args[0] === 'object' ? this.find(this.valuesOf(args[0])) : this.find(args as string[]);
    if (!child?.shown) return;
    child.clear();
    child.shown = false;
    this.visible.splice(this.visible.indexOf(child), 1);
  }

  /** Zero every series and empty the exposition, as `registry.resetMetrics()` expects. */
  reset(): void {
    for (const child of this.visible) {
      child.clear();
      child.shown = false;
    }
    this.visible.length = 0;
  }

  private valuesOf(labels: LabelSet<L>): string[] {
    return this.labelNames.map((n) => labels[n]);
  }

  private find(values: readonly string[]): C | undefined {
    const last = this.labelNames.length - 1;
    if (values.length !== last + 1) throw new Error(`Invalid number of label values (${values.length}): "${values.join(', ')}" for label names (${last + 1}): "${this.labelNames.join(', ')}" (metric ${this.name})`);
    if (last < 0) return this.only;
    let map = this.root;
    for (let i = 0; i < last; i++) {
      const next = map.get(text(values[i])) as Map<string, unknown> | undefined;
      if (next === undefined) return undefined;
      map = next;
    }
    return map.get(text(values[last])) as C | undefined;
  }

  private add(values: readonly string[]): C {
    const names = this.labelNames;
    const labels: Record<string, string> = {};
    for (let i = 0; i < names.length; i++) labels[names[i]] = text(values[i]);
    const child = this.create(Object.freeze(labels) as LabelSet<L>);
    if (names.length === 0) return (this.only = child);
    let map = this.root;
    for (let i = 0; i < names.length - 1; i++) {
      let next = map.get(labels[names[i]]) as Map<string, unknown> | undefined;
      if (next === undefined) map.set(labels[names[i]], (next = new Map()));
      map = next;
    }
    map.set(labels[names[names.length - 1]], child);
    return child;
  }
}
