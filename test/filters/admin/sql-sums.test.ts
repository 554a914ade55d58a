/**
 * The admin API summed in the database answers exactly what it answers summed in
 * JavaScript: over random rows on SQLite and on PostgreSQL, every usage grouping and
 * filter, the summary with and without filters and the budgets give the same JSON, byte
 * for byte, whether the backend has `groupTotals` or only `rows`. And to the precision
 * the ledger keeps (nano-USD) the spend charts are what the float sums of each row's
 * dollars gave before.
 */
import t, { type Test } from 'tap';
import { compileSchema } from '../../../core/config/ajv.js';
import budgetPlugin from '../../../filters/budget/index.js';
import type { BudgetConfig } from '../../../filters/budget/config.js';
import { groupReader, type GroupRead } from '../../../filters/admin/ledger-read.js';
import { budgetPeriod, budgetSpend, budgetViews, summarize, type Summary } from '../../../filters/admin/summary.js';
import { parseUsageQuery, usageGroupQuery, usageRows, usageTotals, type UsageQuery } from '../../../filters/admin/usage.js';
import { PostgresLedger } from '../../../filters/cost/ledger/postgres.js';
import { SqliteLedger } from '../../../filters/cost/ledger/sqlite.js';
import type { DayRange, LedgerBackend, LedgerRow } from '../../../filters/cost/ledger/types.js';
import { nanosToUsd } from '../../../filters/cost/price-book.js';
import { startPostgres } from '../../helpers/postgres.js';
import { mulberry32 } from '../../helpers/prng.js';
import { NAMES, randomRows } from '../../helpers/random-ledger.js';
import { day } from './setup.js';

const NOW = Date.now();
/** The last 400 days, and the budgets' month. */
const DAYS = Array.from({ length: 400 }, (_, i) => day(i));
const MONTH = budgetPeriod(NOW);

const budgetConfig = (() => {
  const c = { default_user: { daily_usd: 5, monthly_usd: 40 }, default_project: { monthly_usd: 90 }, users: { alice: { monthly_usd: 30 } }, projects: { bob: { daily_usd: 2 } }, global: { monthly_usd: 500 } };
  compileSchema(budgetPlugin.configSchema ?? {})(c);
  return c as unknown as BudgetConfig;
})();

/** The same backend without its aggregate read: the admin API falls back to rows. */
const withoutGroupTotals = (backend: LedgerBackend): LedgerBackend => Object.assign(Object.create(backend) as LedgerBackend, { groupTotals: undefined });

function usageQueries(): UsageQuery[] {
  const rand = mulberry32(21);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const out: UsageQuery[] = [];
  for (let i = 0; i < 120; i++) {
    const [from, to] = [pick(DAYS), pick(DAYS)].sort();
    const params = new URLSearchParams({ from, to });
    if (rand() < 0.3) params.set('user', pick(NAMES));
    if (rand() < 0.2) params.set('project', pick(NAMES));
    if (rand() < 0.15) params.set('provider', pick(['anthropic', 'openai']));
    if (rand() < 0.15) params.set('model', pick(['gpt-4o', 'claude-sonnet-4']));
    params.set('group_by', ['day', 'user', 'workspace', 'project', 'provider', 'model'].filter(() => rand() < 0.3).join(','));
    const q = parseUsageQuery(params, NOW);
    if (typeof q === 'string') throw new Error(q);
    out.push(q);
  }
  return out;
}

const usageJson = async (read: GroupRead, q: UsageQuery) => {
  const groups = await read(usageGroupQuery(q));
  return JSON.stringify({ rows: usageRows(groups, q.groupBy), totals: usageTotals(groups) });
};

async function summaryOf(backend: LedgerBackend, q: UsageQuery): Promise<Summary> {
  const read = groupReader(backend, [q, MONTH]);
  return summarize(read, q, budgetViews(budgetConfig, await budgetSpend(read, NOW), NOW), { hours: [], by_user: {} });
}

/** The spend charts as the summary computed them before: each row's dollars added as floats, row by row. */
function floatSpend(rows: readonly LedgerRow[], q: DayRange, key: 'project' | 'user'): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    if (r.day < q.from || r.day > q.to) continue;
    const cell = `${r[key] || '(none)'}|${r.day}`;
    out.set(cell, (out.get(cell) ?? 0) + nanosToUsd(r.cost_nanos));
  }
  return out;
}

async function bothWays(t: Test, backend: LedgerBackend): Promise<void> {
  await backend.add(randomRows(31, 4000, DAYS));
  const js = withoutGroupTotals(backend);
  t.ok(backend.groupTotals, 'the backend sums in SQL');

  let rows = 0;
  for (const q of usageQueries()) {
    const [sql, fallback] = [await usageJson(groupReader(backend, [q]), q), await usageJson(groupReader(js, [q]), q)];
    if (sql !== fallback) {
      t.equal(sql, fallback, `usage ${JSON.stringify(q)}`);
      return;
    }
    rows += (JSON.parse(sql) as { rows: unknown[] }).rows.length;
  }
  t.pass(`120 random usage queries (${rows} rows): the same JSON, summed in SQL or in JavaScript`);

  const all = await backend.rows();
  const periods: Array<[string, string]> = [[day(6), day(0)], [day(29), day(0)], [day(399), day(0)], [day(200), day(100)], [MONTH.from, MONTH.to]];
  const filters = ['', '&user=alice', '&project=bob&model=gpt-4o', '&provider=openai', '&user=nobody'];
  let charted = 0;
  for (const [from, to] of periods) {
    for (const filter of filters) {
      const q = parseUsageQuery(new URLSearchParams(`from=${from}&to=${to}${filter}`), NOW);
      if (typeof q === 'string') throw new Error(q);
      const [sql, fallback] = [await summaryOf(backend, q), await summaryOf(js, q)];
      if (JSON.stringify(sql) !== JSON.stringify(fallback)) {
        t.same(sql, fallback, `summary ${from}..${to}${filter}`);
        return;
      }
      if (filter) continue;
      // The charts' series under their own names (the top ones, not `other`) against the float sums of before.
      for (const [series, key] of [[sql.spend_by_project, 'project'], [sql.spend_by_user, 'user']] as const) {
        const before = floatSpend(all, q, key);
        for (const s of series.filter((s) => s.name !== 'other')) {
          sql.days.forEach((d, i) => {
            const was = before.get(`${s.name}|${d}`) ?? 0;
            if (Math.round(was * 1e9) !== Math.round(s.values[i] * 1e9)) t.fail(`${key} ${s.name} on ${d}: ${s.values[i]}, before ${was}`);
            charted++;
          });
        }
      }
    }
  }
  t.ok(charted > 1000, `25 summaries the same JSON either way; ${charted} chart points equal to the float sums of before, to the nano-USD`);
  const budgets = budgetViews(budgetConfig, await budgetSpend(groupReader(backend, [MONTH]), NOW), NOW);
  t.ok(budgets.filter((b) => b.default).length > 5, 'default budgets have rows to rank');
}

t.test('SQLite: the admin API summed in SQL answers what it answers summed in JavaScript', async (t) => {
  const ledger = new SqliteLedger(':memory:');
  t.teardown(() => ledger.close());
  await bothWays(t, ledger);
});

t.test('PostgreSQL: the admin API summed in SQL answers what it answers summed in JavaScript', async (t) => {
  const server = await startPostgres(t);
  const ledger = new PostgresLedger(server.url);
  t.teardown(() => ledger.close());
  await bothWays(t, ledger);
});
