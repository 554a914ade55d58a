/**
 * The admin API reads the ledger days it needs, not the whole ledger — the query's period,
 * and for the summary the budgets' month so far — and answers exactly what it answered
 * from a full read: every query below is compared with the same computation over every
 * row, for periods across month ends, in the past, and the year.
 */
import path from 'node:path';
import t from 'tap';
import { compileSchema } from '../../../core/config/ajv.js';
import budgetPlugin from '../../../filters/budget/index.js';
import type { BudgetConfig } from '../../../filters/budget/config.js';
import { mergeRanges, readDays, type GroupRead } from '../../../filters/admin/ledger-read.js';
import { budgetPeriod, budgetSpend, budgetViews, summarize, type Summary } from '../../../filters/admin/summary.js';
import { parseUsageQuery, toCsv, usageGroupQuery, usageRows, usageTotals } from '../../../filters/admin/usage.js';
import { groupCounts } from '../../../filters/cost/ledger/group.js';
import { SqliteLedger } from '../../../filters/cost/ledger/sqlite.js';
import type { DayRange, LedgerGroupQuery, LedgerRow } from '../../../filters/cost/ledger/types.js';
import { startGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { adminConfig, day, TOKEN } from './setup.js';

const DAY_MS = 86_400_000;
const bearer = { authorization: `Bearer ${TOKEN}` };

t.test('mergeRanges: overlapping and touching ranges become one, in day order', async (t) => {
  t.same(mergeRanges([]), []);
  t.same(mergeRanges([{ from: '2026-11-26', to: '2026-12-02' }, { from: '2026-12-01', to: '2026-12-02' }]), [{ from: '2026-11-26', to: '2026-12-02' }], 'the month inside the week');
  t.same(mergeRanges([{ from: '2026-03-01', to: '2026-03-05' }, { from: '2026-02-10', to: '2026-02-28' }]), [{ from: '2026-02-10', to: '2026-03-05' }], 'February 28 touches March 1');
  t.same(mergeRanges([{ from: '2028-02-10', to: '2028-02-28' }, { from: '2028-03-01', to: '2028-03-05' }]), [{ from: '2028-02-10', to: '2028-02-28' }, { from: '2028-03-01', to: '2028-03-05' }], 'a leap year: 2028-02-29 lies between');
  t.same(mergeRanges([{ from: '2026-12-01', to: '2026-12-02' }, { from: '2026-06-01', to: '2026-06-30' }]), [{ from: '2026-06-01', to: '2026-06-30' }, { from: '2026-12-01', to: '2026-12-02' }], 'disjoint: both, oldest first');
  t.same(mergeRanges([{ from: '2025-12-31', to: '2025-12-31' }, { from: '2026-01-01', to: '2026-01-01' }]), [{ from: '2025-12-31', to: '2026-01-01' }], 'across the year');
  t.same(mergeRanges([{ from: '2026-01-01', to: '2026-12-31' }, { from: '2026-05-01', to: '2026-05-02' }]), [{ from: '2026-01-01', to: '2026-12-31' }], 'contained');
});

t.test('readDays: disjoint ranges read each, overlapping once, in key order', async (t) => {
  const ledger = new SqliteLedger(':memory:');
  t.teardown(() => ledger.close());
  const rows = ['2026-06-01', '2026-06-30', '2026-07-01', '2026-11-30', '2026-12-01', '2026-12-02'].flatMap((d) => ['bob', 'alice'].map((user) => ({ day: d, user, workspace: '', project: '', provider: 'p', model: 'm', requests: 1, errors: 0, tokens_in: 0, tokens_out: 0, cache_creation_tokens: 0, cache_read_tokens: 0, cost_nanos: 1, unpriced: 0 })));
  await ledger.add(rows);
  const asked: Array<DayRange | undefined> = [];
  const backend = Object.assign(Object.create(ledger) as SqliteLedger, { rows: (r?: DayRange) => (asked.push(r), ledger.rows(r)) });
  const all = await ledger.rows();
  const got = await readDays(backend, [{ from: '2026-11-26', to: '2026-12-02' }, { from: '2026-12-01', to: '2026-12-02' }, { from: '2026-06-15', to: '2026-06-30' }]);
  t.same(asked, [{ from: '2026-06-15', to: '2026-06-30' }, { from: '2026-11-26', to: '2026-12-02' }]);
  t.same(got, all.filter((r) => (r.day >= '2026-06-15' && r.day <= '2026-06-30') || r.day >= '2026-11-26'), 'the rows of those days, once each, in the full read\'s order');
});

/** Rows on both sides of this and last month's start, in the past year, and today. */
function yearOfRows(now: number): LedgerRow[] {
  const today = new Date(now);
  const utc = (y: number, m: number, d: number) => new Date(Date.UTC(y, m, d)).toISOString().slice(0, 10);
  const y = today.getUTCFullYear();
  const m = today.getUTCMonth();
  const days = new Set([day(0), day(1), day(3), day(6), day(7), day(29), day(30), day(45), day(90), day(200), day(364), day(365), utc(y, m, 1), utc(y, m, 0), utc(y, m - 1, 1), utc(y, m - 1, 0), utc(y, m - 2, 28)]);
  const out: LedgerRow[] = [];
  let n = 0;
  for (const d of [...days].filter((d) => d <= day(0)).sort()) {
    for (const [user, workspace, project, provider, model] of [
      ['alice', 'ws-alice', 'webide', 'anthropic', 'claude-sonnet-4'],
      ['bob', 'ws-bob', 'research', 'openai', 'gpt-4o'],
      ['carol', 'ws-carol', 'research', 'anthropic', 'claude-haiku-3-5'],
      ['', '', '', 'anthropic', ''],
      ['dave', 'ws-dave', '', 'gemini', 'gemini-2.5-pro'],
    ]) {
      n++;
      out.push({ day: d, user, workspace, project, provider, model, requests: n % 9 + 1, errors: n % 4 === 0 ? 1 : 0, tokens_in: n * 101, tokens_out: n * 37, cache_creation_tokens: n % 5, cache_read_tokens: n * 3, cost_nanos: model ? (n % 11) * 123_456_789 : 0, unpriced: n % 7 === 0 ? 1 : 0 });
    }
  }
  return out;
}

type Json = Record<string, unknown>;
const roundTrip = (v: unknown): Json => JSON.parse(JSON.stringify(v)) as Json;
/** A budget's burn and projection move with the clock between the call and the expectation; the rest is the day's. */
const steady = (s: Json): Json => ({ ...s, rejections: undefined, budgets: (s.budgets as Json[]).map(({ burn_usd_per_day: _b, projected_usd: _p, ...rest }) => rest) });

/** Each range `asked` lies within one of `allowed`. */
const within = (asked: readonly DayRange[], allowed: readonly DayRange[]) => asked.every((a) => allowed.some((r) => a.from >= r.from && a.to <= r.to));

for (const mode of ['summed in SQL', 'summed from rows'] as const) {
  t.test(`the admin API reads only the days it needs and answers as from a full read (${mode})`, async (t) => {
    const dir = tempDir('gw-admin-range-');
    const file = path.join(dir, 'data', 'ledger.sqlite');
    const seed = new SqliteLedger(file);
    await seed.add(yearOfRows(Date.now()));
    const all = await seed.rows();
    await seed.close();
    const fromAll: GroupRead = async (q) => groupCounts(all, q);

    // Every ledger read the gateway makes, by range (the gateway opens its SQLite ledger in this process).
    const asked: Array<DayRange | undefined> = [];
    const grouped: DayRange[] = [];
    let whole = 0;
    const proto = SqliteLedger.prototype as { rows: SqliteLedger['rows']; groupTotals?: SqliteLedger['groupTotals'] };
    const { rows, groupTotals } = proto;
    proto.rows = function (this: SqliteLedger, range?: DayRange) {
      if (!range) whole++;
      asked.push(range && { ...range });
      return rows.call(this, range);
    };
    proto.groupTotals =
      mode === 'summed in SQL'
        ? function (this: SqliteLedger, q: LedgerGroupQuery) {
            grouped.push({ from: q.from, to: q.to });
            return groupTotals!.call(this, q);
          }
        : undefined;
    t.teardown(() => {
      Object.assign(proto, { rows, groupTotals });
    });
    const gw = await startGateway(t, adminConfig(), { dir });
    const budget = structuredClone({ projects: { research: { monthly_usd: 50 }, webide: { daily_usd: 1, action: 'alert' } } }) as unknown as BudgetConfig;
    compileSchema(budgetPlugin.configSchema ?? {})(budget);

    const month = budgetPeriod(Date.now());
    const lastMonthEnd = new Date(Date.parse(`${month.from}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
    const periods: Array<[string, string]> = [
      [day(6), day(0)],
      [lastMonthEnd, month.from],
      [day(45), day(29)],
      [day(200), day(90)],
      [day(364), day(0)],
      [month.from, month.from],
    ];
    /** The reads a call made: by the database within `ranges`, or of rows, once, of exactly their days. */
    const readOnly = (what: string, ranges: DayRange[]) => {
      if (mode === 'summed in SQL') {
        t.same(asked, [], `${what}: no rows read`);
        t.ok(grouped.length > 0 && within(grouped, ranges), `${what}: summed in the database, within ${JSON.stringify(ranges)}`);
      } else t.same(asked, mergeRanges(ranges), `${what}: one read of its days`);
      asked.length = 0;
      grouped.length = 0;
    };

    for (const [from, to] of periods) {
      for (const extra of ['group_by=day,user', 'group_by=project', '', 'project=research&group_by=model,day', 'user=&group_by=provider']) {
        const query = `from=${from}&to=${to}${extra ? `&${extra}` : ''}`;
        const got = (await (await fetch(`${gw.url}/admin/usage?${query}`, { headers: bearer })).json()) as Json;
        const q = parseUsageQuery(new URLSearchParams(query));
        if (typeof q === 'string') throw new Error(q);
        const groups = await fromAll(usageGroupQuery(q));
        t.same(got, roundTrip({ from, to, filters: q.filters, group_by: q.groupBy, rows: usageRows(groups, q.groupBy), totals: usageTotals(groups) }), `usage ${query}`);
        readOnly(`usage ${query}`, [{ from, to }]);
      }
      const csv = await (await fetch(`${gw.url}/admin/usage?from=${from}&to=${to}&group_by=user,model&format=csv`, { headers: bearer })).text();
      t.equal(csv, toCsv(usageRows(await fromAll({ from, to, groupBy: ['user', 'model'] }), ['user', 'model']), ['user', 'model']), `usage CSV ${from}..${to}`);
      readOnly(`usage CSV ${from}..${to}`, [{ from, to }]);

      for (const filter of ['', '&user=alice', '&project=research&model=gpt-4o']) {
        const query = `from=${from}&to=${to}${filter}`;
        const got = (await (await fetch(`${gw.url}/admin/summary?${query}`, { headers: bearer })).json()) as Json;
        const now = Date.now();
        const q = parseUsageQuery(new URLSearchParams(query));
        if (typeof q === 'string') throw new Error(q);
        const expected: Summary = await summarize(fromAll, q, budgetViews(budget, await budgetSpend(fromAll, now), now), { hours: [], by_user: {} });
        t.same(steady(got), steady(roundTrip(expected)), `summary ${query}`);
        readOnly(`summary ${query}`, [{ from, to }, budgetPeriod(now)]);
      }
    }
    t.equal(whole, 0, 'never the whole ledger');
  });
}
