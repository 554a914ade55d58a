/**
 * FastCounter against prom-client's Counter: fed the same calls, the same `/metrics` text
 * (Prometheus and OpenMetrics) and the same `getMetricsAsJSON()`, series order included;
 * then what it refuses.
 */
import t from 'tap';
import { Counter, Registry } from '../../../core/deps/prom-client.js';
import { FastCounter } from '../../../core/metrics/fast-counter.js';
import { NASTY, twins } from '../../helpers/metrics-twins.js';

/** The calls both counters understand alike. */
interface CounterApi {
  inc(labels: Record<string, string>, value?: number): void;
  labels(...values: string[]): { inc(value?: number): void };
  remove(...values: string[]): void;
  reset(): void;
}
type Child = ReturnType<CounterApi['labels']>;
/** One call; `held` keeps children between calls, as the gateway does. */
type Op = (c: CounterApi, held: Map<string, Child>) => void;

const cases: Array<{ name: string; labelNames: string[]; ops: Op[] }> = [
  {
    name: 'series appear in the order first recorded to, not first resolved',
    labelNames: ['route', 'provider', 'status_class'],
    ops: [
      (c) => void c.labels('b', 'p', '2xx'),
      (c) => c.labels('a', 'p', '2xx').inc(),
      (c) => c.labels('b', 'p', '2xx').inc(3),
      (c) => c.inc({ route: 'a', provider: 'p', status_class: '2xx' }),
      (c) => c.inc({ route: 'a', provider: 'p', status_class: '4xx' }, 2),
      (c) => c.labels('a', 'q', '5xx').inc(0),
    ],
  },
  {
    name: 'label values are escaped, fractional increments sum in the same order',
    labelNames: ['provider', 'model'],
    ops: [
      (c) => c.inc({ provider: NASTY, model: 'm' }, 0.1),
      (c) => c.inc({ provider: NASTY, model: 'm' }, 0.2),
      (c) => c.labels(NASTY, 'm').inc(1e-9),
      (c) => c.labels('', '').inc(12345678.9),
      (c) => c.labels('', '').inc(2 ** 53),
    ],
  },
  {
    name: 'an unlabelled counter shows 0 before its first inc',
    labelNames: [],
    ops: [],
  },
  {
    name: 'an unlabelled counter counts',
    labelNames: [],
    ops: [(c) => c.labels().inc(), (c) => c.labels().inc(41)],
  },
  {
    name: 'remove drops a series; a held child brings it back from zero, at the end',
    labelNames: ['reason'],
    ops: [
      (c, held) => held.set('a', c.labels('a')),
      (c, held) => held.get('a')!.inc(5),
      (c) => c.labels('b').inc(1),
      (c) => c.remove('a'),
      (c) => c.remove('never-seen'),
      (c) => c.labels('b').inc(1),
      (c, held) => held.get('a')!.inc(2),
    ],
  },
  {
    name: 'reset empties a labelled counter; held children start again from zero',
    labelNames: ['reason'],
    ops: [
      (c, held) => held.set('a', c.labels('a')),
      (c, held) => held.get('a')!.inc(5),
      (c) => c.labels('b').inc(7),
      (c) => c.reset(),
      (c) => c.labels('b').inc(1),
      (c, held) => held.get('a')!.inc(2),
    ],
  },
  {
    name: 'reset puts an unlabelled counter back at 0',
    labelNames: [],
    ops: [(c) => c.labels().inc(3), (c) => c.reset()],
  },
];

for (const contentType of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE] as const) {
  for (const c of cases) {
    t.test(`${c.name} (${contentType.split(';')[0]})`, async (t) => {
      const { prom, fast } = twins(contentType);
      const spec = { name: 'gateway_test_total', help: `Help with \\ and\nnewline`, labelNames: c.labelNames };
      const p = new Counter({ ...spec, registers: [prom] });
      const f = new FastCounter({ ...spec, registers: [fast] });
      const heldP = new Map<string, Child>();
      const heldF = new Map<string, Child>();
      for (const op of c.ops) {
        op(p, heldP);
        op(f, heldF);
      }
      const text = await prom.metrics();
      t.ok(text.includes('gateway_test'), 'the reference shows the family');
      t.equal(await fast.metrics(), text, 'same exposition text');
      t.same(await fast.getMetricsAsJSON(), await prom.getMetricsAsJSON(), 'same JSON for the cluster primary');
    });
  }
}

t.test('the child is resolved once: the same object every time', async (t) => {
  const f = new FastCounter({ name: 'x_total', help: 'x', labelNames: ['a', 'b'] });
  t.equal(f.labels('1', '2'), f.labels('1', '2'));
  t.equal(f.labels({ b: '2', a: '1' }), f.labels('1', '2'), 'by label set, in any key order');
  t.not(f.labels('1', '3'), f.labels('1', '2'));
  t.not(f.labels('12', ''), f.labels('1', '2'), 'no key string that two label sets could share');
});

t.test('registry.resetMetrics() resets fast counters too', async (t) => {
  const registry = new Registry();
  const f = new FastCounter({ name: 'x_total', help: 'x', labelNames: ['a'], registers: [registry] });
  f.labels('1').inc(4);
  registry.resetMetrics();
  t.equal(await registry.metrics(), '# HELP x_total x\n# TYPE x_total counter\n');
});

t.test('refusals: bad increments, stray labels, bad names', async (t) => {
  const f = new FastCounter({ name: 'x_total', help: 'x', labelNames: ['a', 'b'] });
  const child = f.labels('1', '2');
  t.throws(() => child.inc(-1), /finite number >= 0/, 'a counter never goes down');
  t.throws(() => child.inc(NaN), /finite number >= 0/, 'NaN (prom-client would store it)');
  t.throws(() => child.inc(Infinity), /finite number >= 0/);
  t.throws(() => f.labels('1'), /Invalid number of label values \(1\)/);
  t.throws(() => f.inc({ a: '9', b: '9', c: '3' } as unknown as { a: string; b: string }), /Added label "c" is not included/, 'a label set is checked when first seen');
  t.throws(() => child.inc('12' as unknown as number), /finite number >= 0/, 'a string is not added (or concatenated)');
  t.throws(() => new FastCounter({ name: 'bad-name', help: 'x' }), /Invalid metric name/);
  t.throws(() => new FastCounter({ name: 'x', help: 'x', labelNames: ['bad-label'] }), /Invalid label name/);
  t.throws(() => new FastCounter({ name: 'x', help: '' }), /help/);
  t.equal(await f.get().then((m) => m.values.length), 0, 'nothing half-made by the refusals');
});

t.test('a label value that is not a string (upstream JSON) is recorded as its text, not thrown', async (t) => {
  const { prom, fast } = twins();
  const spec = { name: 'x_total', help: 'x', labelNames: ['provider', 'model'] };
  const p = new Counter({ ...spec, registers: [prom] });
  const f = new FastCounter({ ...spec, registers: [fast] });
  const model = 42 as unknown as string;
  p.labels('a', model).inc();
  f.labels('a', model).inc();
  p.inc({ provider: 'a', model: '42' });
  f.inc({ provider: 'a', model: '42' });
  t.equal(await fast.metrics(), await prom.metrics(), 'one series, "42"');
  t.equal(f.labels('a', model), f.labels('a', '42'));
  t.doesNotThrow(() => f.inc({ provider: 'a' } as unknown as { provider: string; model: string }), 'a missing label does not throw mid-request');
});
