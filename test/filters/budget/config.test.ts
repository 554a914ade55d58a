/**
 * The budget filter's config model: the budgets a caller counts against (resolved once
 * per caller and kept), what each carries precomputed for the store, and the current
 * period shared by every budget of a kind until the clock leaves it.
 */
import t from 'tap';
import { Budgets, PeriodClock, periodOf, type BudgetConfig } from '../../../filters/budget/config.js';

const base: BudgetConfig = {
  action: 'block', thresholds: [80, 50, 100], users: {}, projects: {},
  bytes_per_token: 4, default_output_tokens: 4096, anonymous_user: 'anonymous', unpriced: 'allow',
};

t.test('a caller\'s budgets: named, default and global, with blocking ones apart', async (t) => {
  const budgets = new Budgets({
    ...base,
    global: { monthly_usd: 5000, action: 'alert' },
    default_user: { daily_usd: 20 },
    users: { 'contractor 1': { monthly_usd: 100, daily_usd: 10, thresholds: [90] } },
    projects: { webide: { monthly_usd: 1000 } },
  });
  const named = budgets.list('contractor 1', 'webide');
  t.same(named.all.map((b) => `${b.scope}:${b.name}:${b.period}:${b.action}`), [
    'user:contractor 1:day:block', 'user:contractor 1:month:block', 'project:webide:month:block', 'global:*:month:alert',
  ]);
  t.same(named.blocking.map((b) => `${b.scope}:${b.period}`), ['user:day', 'user:month', 'project:month']);
  const [day] = named.all;
  t.equal(day.group, 'bg:u:contractor%201', 'the store group, its name escaped');
  t.same(day.thresholdNanos, [9_000_000_000], '90 % of $10 in nano-USD');
  t.same(named.all[3].thresholds, [50, 80, 100], 'thresholds ascending');
  t.same(named.all[3].thresholdNanos, [2500e9, 4000e9, 5000e9]);

  const alice = budgets.list('alice', undefined);
  t.same(alice.all.map((b) => `${b.scope}:${b.name}:${b.period}`), ['user:alice:day', 'global:*:month'], 'default_user made for alice; no project');
  t.equal(budgets.list('alice', undefined), alice, 'the same lists for her next request');
  t.equal(budgets.for('alice', undefined), alice.all);
  t.not(budgets.list('alice', 'webide'), alice, 'another project: its own lists');
});

t.test('blocking budgets by store group: a user\'s day and month are reserved together', async (t) => {
  const budgets = new Budgets({
    ...base,
    global: { monthly_usd: 5000 },
    users: { alice: { daily_usd: 10, monthly_usd: 100 } },
    projects: { webide: { monthly_usd: 1000, action: 'alert' } },
  });
  const { blocking, reserves } = budgets.list('alice', 'webide');
  t.same(reserves.map((g) => [g.group, g.budgets.map((b) => b.period)]), [['bg:u:alice', ['day', 'month']], ['bg:g:*', ['month']]], 'the alert-only project budget is in none');
  t.same(reserves.flatMap((g) => g.budgets), blocking, 'the groups hold the blocking budgets, in their order');
  t.same(reserves[0].limits, [10e9, 100e9], 'limits in nano-USD');

  const clock = new PeriodClock();
  const user = reserves[0];
  const noon = Date.UTC(2026, 10, 30, 12);
  t.same(user.at(clock, noon).keys, ['d:2026-11-30:spent', 'd:2026-11-30:held', 'm:2026-11:spent', 'm:2026-11:held']);
  const { spans, keys } = user;
  t.same(spans.map((s) => s.id), ['d:2026-11-30', 'm:2026-11']);
  user.at(clock, noon + 3_600_000);
  t.equal(user.keys, keys, 'the same keys while both periods last');
  user.at(clock, Date.UTC(2026, 11, 1, 0, 0, 1));
  t.same(user.keys, ['d:2026-12-01:spent', 'd:2026-12-01:held', 'm:2026-12:spent', 'm:2026-12:held'], 'moved with the day and the month');
  t.same(keys, ['d:2026-11-30:spent', 'd:2026-11-30:held', 'm:2026-11:spent', 'm:2026-11:held'], 'what a request kept is not changed');
  t.same(spans.map((s) => s.id), ['d:2026-11-30', 'm:2026-11']);
});

t.test('the kept lists are bounded: past 10,000 callers they start over', async (t) => {
  const budgets = new Budgets({ ...base, default_user: { daily_usd: 1 } });
  const first = budgets.list('user-0', undefined);
  for (let i = 1; i < 10_000; i++) budgets.list(`user-${i}`, undefined);
  t.equal(budgets.list('user-0', undefined), first, 'still kept at 10,000');
  budgets.list('user-10000', undefined);
  const again = budgets.list('user-0', undefined);
  t.not(again, first, 'made again after the start-over');
  t.same(again, first, 'equal to what it was');
});

t.test('the period clock: one span per kind until the moment leaves it', async (t) => {
  const clock = new PeriodClock();
  const noon = Date.UTC(2026, 10, 30, 12);
  const day = clock.at('day', noon);
  t.same({ id: day.id, start: day.start.toISOString(), end: day.end.toISOString(), keys: day.keys }, {
    id: 'd:2026-11-30', start: '2026-11-30T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z',
    keys: ['d:2026-11-30:spent', 'd:2026-11-30:held', 'd:2026-11-30:fired'],
  });
  t.equal(clock.at('day', Date.UTC(2026, 10, 30, 23, 59, 59, 999)), day, 'the same span until its last millisecond');
  const month = clock.at('month', noon);
  t.equal(month.id, 'm:2026-11');
  const next = clock.at('day', Date.UTC(2026, 11, 1));
  t.equal(next.id, 'd:2026-12-01', 'midnight starts the next day');
  t.equal(clock.at('month', Date.UTC(2026, 11, 1)).id, 'm:2026-12', 'and the next month');
  t.equal(clock.at('day', noon).id, 'd:2026-11-30', 'a moment before the span (a replay going back) is placed right');
  t.same(periodOf('month', Date.UTC(2026, 11, 31, 23)).end.toISOString(), '2027-01-01T00:00:00.000Z', 'December ends at the new year');
});
