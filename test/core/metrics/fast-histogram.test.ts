/**
 * FastHistogram against prom-client's Histogram: fed the same observations, the same
 * `/metrics` text (every `le`, `+Inf`, `_sum`, `_count`, escaped labels, series order) and
 * the same `getMetricsAsJSON()`; then what it refuses.
 */
import t from 'tap';
import { Histogram, Registry } from '../../../core/deps/prom-client.js';
import { FastHistogram } from '../../../core/metrics/fast-histogram.js';
import { NASTY, twins } from '../../helpers/metrics-twins.js';

/** The calls both histograms understand alike. */
interface HistogramApi {
  observe(labels: Record<string, string>, value: number): void;
  labels(...values: string[]): { observe(value: number): void };
  remove(...values: string[]): void;
  reset(): void;
}
type Child = ReturnType<HistogramApi['labels']>;
type Op = (h: HistogramApi, held: Map<string, Child>) => void;

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Values on, between, below and above the bounds, and sums that round. */
const awkward = [0, 0.001, 0.0010000001, 0.1 + 0.2, 0.3, 299.999, 300, 300.0001, 1e6, -5, 1e-12, 7 / 3];

const cases: Array<{ name: string; labelNames: string[]; buckets?: number[]; ops: Op[] }> = [
  {
    name: 'observations on, between and beyond the bounds',
    labelNames: ['route', 'provider'],
    buckets: DURATION_BUCKETS,
    ops: awkward.map((v, i): Op => (h) => h.labels(i % 3 === 0 ? 'b' : 'a', 'p').observe(v)),
  },
  {
    name: 'series appear in the order first observed, not first resolved',
    labelNames: ['route'],
    buckets: [0.1, 1],
    ops: [(h) => void h.labels('z'), (h) => h.observe({ route: 'y' }, 0.5), (h) => h.labels('z').observe(2), (h) => h.labels('y').observe(0.05)],
  },
  {
    name: 'label values are escaped',
    labelNames: ['route', 'provider'],
    buckets: [1],
    ops: [(h) => h.labels(NASTY, '').observe(0.5), (h) => h.observe({ route: 'plain', provider: NASTY }, 3)],
  },
  {
    name: "prom-client's default buckets when none are given",
    labelNames: ['x'],
    ops: awkward.map((v): Op => (h) => h.labels('1').observe(v)),
  },
  {
    name: 'an unlabelled histogram shows its zero buckets before the first observation',
    labelNames: [],
    buckets: [0.5, 1],
    ops: [],
  },
  {
    name: 'an unlabelled histogram observes',
    labelNames: [],
    buckets: [0.5, 1],
    ops: [(h) => h.labels().observe(0.7), (h) => h.labels().observe(3)],
  },
  {
    name: 'an unlabelled histogram shows nothing after a reset, until observed',
    labelNames: [],
    buckets: [0.5, 1],
    ops: [(h) => h.labels().observe(0.7), (h) => h.reset()],
  },
  {
    name: 'remove and reset; held children start again from zero, at the end',
    labelNames: ['route'],
    buckets: [0.5, 1],
    ops: [
      (h, held) => held.set('a', h.labels('a')),
      (h, held) => held.get('a')!.observe(0.1),
      (h) => h.labels('b').observe(0.7),
      (h) => h.labels('c').observe(0.7),
      (h) => h.remove('a'),
      (h, held) => held.get('a')!.observe(2),
      (h) => h.reset(),
      (h) => h.labels('c').observe(0.2),
      (h, held) => held.get('a')!.observe(0.9),
    ],
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const { prom, fast } = twins();
    const spec = { name: 'gateway_test_seconds', help: 'Help with \\ and\nnewline', labelNames: c.labelNames, ...(c.buckets ? { buckets: c.buckets } : {}) };
    const p = new Histogram({ ...spec, registers: [prom] });
    const f = new FastHistogram({ ...spec, registers: [fast] });
    const heldP = new Map<string, Child>();
    const heldF = new Map<string, Child>();
    for (const op of c.ops) {
      op(p, heldP);
      op(f, heldF);
    }
    const text = await prom.metrics();
    t.ok(text.includes('# TYPE gateway_test_seconds histogram'), 'the reference shows the family');
    t.equal(await fast.metrics(), text, 'same exposition text');
    t.same(await fast.getMetricsAsJSON(), await prom.getMetricsAsJSON(), 'same JSON for the cluster primary');
  });
}

t.test('the text, spelt out for one series', async (t) => {
  const registry = new Registry();
  const f = new FastHistogram({ name: 'x_seconds', help: 'x', labelNames: ['route'], buckets: [0.1, 1], registers: [registry] });
  const child = f.labels('r"1');
  for (const v of [0.05, 0.1, 0.5, 5]) child.observe(v);
  t.equal(
    await registry.metrics(),
    [
      '# HELP x_seconds x',
      '# TYPE x_seconds histogram',
      'x_seconds_bucket{le="0.1",route="r\\"1"} 2',
      'x_seconds_bucket{le="1",route="r\\"1"} 3',
      'x_seconds_bucket{le="+Inf",route="r\\"1"} 4',
      'x_seconds_sum{route="r\\"1"} 5.65',
      'x_seconds_count{route="r\\"1"} 4',
      '',
    ].join('\n'),
  );
});

t.test('default labels on the registry land where prom-client puts them', async (t) => {
  const { prom, fast } = twins();
  for (const r of [prom, fast]) r.setDefaultLabels({ instance: 'w1' });
  const spec = { name: 'x_seconds', help: 'x', labelNames: ['route'], buckets: [1] };
  new Histogram({ ...spec, registers: [prom] }).labels('a').observe(0.5);
  new FastHistogram({ ...spec, registers: [fast] }).labels('a').observe(0.5);
  t.equal(await fast.metrics(), await prom.metrics());
  t.same(await fast.getMetricsAsJSON(), await prom.getMetricsAsJSON());
});

t.test('refusals: non-finite values, reserved and bad labels, bad buckets', async (t) => {
  const f = new FastHistogram({ name: 'x_seconds', help: 'x', labelNames: ['a'], buckets: [1, 2] });
  const child = f.labels('1');
  t.throws(() => child.observe(NaN), /not a valid number/);
  t.throws(() => child.observe(Infinity), /not a valid number/);
  t.throws(() => f.observe({ a: '9', b: '2' } as unknown as { a: string }, 1), /Added label "b"/, 'a label set is checked when first seen');
  t.throws(() => new FastHistogram({ name: 'x', help: 'x', labelNames: ['le'] }), /le is a reserved label/);
  t.throws(() => new FastHistogram({ name: 'x', help: 'x', buckets: [1, 1] }), /finite and increasing/);
  t.throws(() => new FastHistogram({ name: 'x', help: 'x', buckets: [2, 1] }), /finite and increasing/);
  t.throws(() => new FastHistogram({ name: 'x', help: 'x', buckets: [1, Infinity] }), /finite and increasing/);
  t.equal((await f.get()).values.length, 0, 'the refused observations left nothing behind');
});
