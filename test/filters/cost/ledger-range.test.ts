/**
 * A ranged read (`rows({ from, to })`) returns exactly the rows a full read has on those
 * UTC days, in the same order, on SQLite and on PostgreSQL: ranges that start and end on
 * year, month and leap-month boundaries, on days with no rows, before and after the data.
 * And it reads through the primary key's index (it leads with `day`), not the whole table.
 */
import path from 'node:path';
import t, { type Test } from 'tap';
import { PostgresLedger } from '../../../filters/cost/ledger/postgres.js';
import { SELECT_RANGE, SqliteLedger } from '../../../filters/cost/ledger/sqlite.js';
import type { DayRange, LedgerBackend, LedgerRow } from '../../../filters/cost/ledger/types.js';
import { startPostgres } from '../../helpers/postgres.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** Days with rows: both sides of a year's end, of month ends, of February's end (2028 is a leap year). */
const DAYS = ['2025-12-30', '2025-12-31', '2026-01-01', '2026-01-02', '2026-01-31', '2026-02-01', '2026-02-27', '2026-02-28', '2026-03-01', '2026-03-31', '2026-04-01', '2028-02-28', '2028-02-29', '2028-03-01'];
/** Range ends: the days above and days without rows between and around them. */
const ENDS = [...DAYS, '2025-11-01', '2026-01-15', '2026-02-29', '2026-05-01', '2028-12-31'].sort();

const USERS = ['', 'Zed', 'alice', 'bob', 'ümit'];

function seed(): LedgerRow[] {
  const out: LedgerRow[] = [];
  DAYS.forEach((day, d) => {
    USERS.forEach((user, u) => {
      for (const model of ['claude-sonnet-4', 'gpt-4o']) {
        const n = 1 + d * 7 + u * 3 + model.length;
        out.push({ day, user, workspace: `ws-${u}`, project: u % 2 ? 'webide' : '', provider: model.startsWith('gpt') ? 'openai' : 'anthropic', model, requests: n, errors: n % 3, tokens_in: n * 100, tokens_out: n * 40, cache_creation_tokens: n, cache_read_tokens: 2 * n, cost_nanos: n * 1_234_567, unpriced: n % 2 });
      }
    });
  });
  return out;
}

function ranges(): DayRange[] {
  const out: DayRange[] = [];
  for (const from of ENDS) for (const to of ENDS) if (from <= to) out.push({ from, to });
  return out;
}

async function sameAsFullRead(t: Test, ledger: LedgerBackend): Promise<void> {
  const all = await ledger.rows();
  t.equal(all.length, DAYS.length * USERS.length * 2, 'the full read has every row');
  let checked = 0;
  for (const r of ranges()) {
    const ranged = await ledger.rows(r);
    const expected = all.filter((row) => row.day >= r.from && row.day <= r.to);
    if (JSON.stringify(ranged) !== JSON.stringify(expected)) {
      t.same(ranged, expected, `${r.from}..${r.to}`);
      return;
    }
    checked++;
  }
  t.equal(checked, ranges().length, `${checked} ranges: each the full read's rows of its days, in its order`);
  t.same(await ledger.rows({ from: '2026-01-31', to: '2026-02-01' }).then((rs) => [...new Set(rs.map((r) => r.day))]), ['2026-01-31', '2026-02-01'], 'both ends are included');
  t.same(await ledger.rows({ from: '2026-02-29', to: '2026-02-29' }), [], 'a day with no rows: none');
}

t.test('SQLite: ranged reads equal the full read filtered by day', async (t) => {
  const ledger = new SqliteLedger(path.join(tempDir('gw-ledger-range-'), 'ledger.sqlite'));
  t.teardown(() => ledger.close());
  await ledger.add(seed());
  await sameAsFullRead(t, ledger);
});

t.test('SQLite: a range searches the primary key index instead of scanning the table', async (t) => {
  const file = path.join(tempDir('gw-ledger-range-'), 'ledger.sqlite');
  const ledger = new SqliteLedger(file);
  await ledger.add(seed());
  await ledger.close();
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  const plan = (db.prepare(`EXPLAIN QUERY PLAN ${SELECT_RANGE}`).all({ from: '2026-01-01', to: '2026-01-31' }) as Array<{ detail: string }>).map((p) => p.detail);
  t.match(plan.join('\n'), /SEARCH usage_ledger USING INDEX sqlite_autoindex_usage_ledger_1 \(day>\? AND day<\?\)/, plan.join('; '));
  t.notMatch(plan.join('\n'), /TEMP B-TREE/, 'no sort: the index gives key order');
});

t.test('PostgreSQL: ranged reads equal the full read filtered by day, through the primary key index', async (t) => {
  const server = await startPostgres(t);
  const ledger = new PostgresLedger(server.url);
  t.teardown(() => ledger.close());
  await ledger.add(seed());
  await sameAsFullRead(t, ledger);

  // A year of rows, so that the planner has a choice to make for a week.
  const year: LedgerRow[] = [];
  for (let d = 0; d < 365; d++) {
    const day = new Date(Date.UTC(2029, 0, 1) + d * 86_400_000).toISOString().slice(0, 10);
    for (let u = 0; u < 30; u++) year.push({ ...seed()[0], day, user: `user-${u}` });
  }
  await ledger.add(year);
  await server.query('ANALYZE usage_ledger');
  const plan = (await server.query<{ 'QUERY PLAN': string }>("EXPLAIN SELECT * FROM usage_ledger WHERE day >= '2029-06-01' AND day <= '2029-06-07' ORDER BY day, user_name, workspace, project, provider, model")).map((r) => r['QUERY PLAN']).join('\n');
  t.match(plan, /usage_ledger_pkey/, plan);
  t.notMatch(plan, /Seq Scan/);
});
