/**
 * `groupTotals`, the ledger's aggregate read: on SQLite, PostgreSQL and a cluster worker's
 * SQLite backend it answers exactly the groups `groupCounts` sums in JavaScript from the
 * rows of the same days (random rows, random filters and groupings, sums past 2^32), each
 * group with its `groupBy` dimensions and the sums, nothing else; a range searches the
 * primary key's index.
 */
import path from 'node:path';
import t, { type Test } from 'tap';
import type { SingleWriter } from '../../../core/index.js';
import { WorkerSqliteBackend, type SqliteSinkOptions } from '../../../filters/cost/ledger/cluster.js';
import { groupCounts, groupTotalsSql } from '../../../filters/cost/ledger/group.js';
import { PostgresLedger } from '../../../filters/cost/ledger/postgres.js';
import { SqliteLedger } from '../../../filters/cost/ledger/sqlite.js';
import { COUNT_COLUMNS, KEY_COLUMNS, type LedgerBackend, type LedgerDimension, type LedgerGroup, type LedgerGroupQuery, type LedgerRow } from '../../../filters/cost/ledger/types.js';
import { startPostgres } from '../../helpers/postgres.js';
import { mulberry32 } from '../../helpers/prng.js';
import { randomRows } from '../../helpers/random-ledger.js';
import { tempDir } from '../../helpers/temp-dir.js';

const DAYS = ['2025-12-30', '2025-12-31', '2026-01-01', '2026-01-31', '2026-02-01', '2026-02-28', '2026-03-01', '2028-02-29'];
const ENDS = [...DAYS, '2025-11-01', '2026-02-15', '2026-12-31'].sort();
const FILTERS = ['user', 'workspace', 'project', 'provider', 'model'] as const;

/** Random queries over the rows' own values (and a value no row has). */
function queries(rows: readonly LedgerRow[], count: number): LedgerGroupQuery[] {
  const rand = mulberry32(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const out: LedgerGroupQuery[] = [];
  while (out.length < count) {
    const [from, to] = [pick(ENDS), pick(ENDS)].sort();
    const where: LedgerGroupQuery['where'] = {};
    for (const f of FILTERS) if (rand() < 0.2) where[f] = rand() < 0.1 ? 'nobody-has-this' : pick(rows)[f];
    const groupBy = KEY_COLUMNS.filter(() => rand() < 0.35).sort(() => rand() - 0.5) as LedgerDimension[];
    out.push({ from, to, where, groupBy });
  }
  return out;
}

/** Groups in one order, whatever order they came in. */
const canonical = (groups: readonly LedgerGroup[]) => groups.map((g) => JSON.stringify(g, Object.keys(g).sort())).sort();

async function sameAsJavaScript(t: Test, backend: LedgerBackend, rows: readonly LedgerRow[]): Promise<void> {
  await backend.add(rows);
  const all = await backend.rows();
  t.equal(all.length, rows.length);
  let groups = 0;
  for (const q of queries(all, 300)) {
    const got = await backend.groupTotals!(q);
    const want = groupCounts(all, q);
    groups += want.length;
    if (JSON.stringify(canonical(got)) !== JSON.stringify(canonical(want))) {
      t.same(canonical(got), canonical(want), JSON.stringify(q));
      return;
    }
    const keys = [...new Set(q.groupBy), ...COUNT_COLUMNS].sort();
    const wrong = got.find((g) => JSON.stringify(Object.keys(g).sort()) !== JSON.stringify(keys) || COUNT_COLUMNS.some((c) => typeof g[c] !== 'number'));
    if (wrong) {
      t.fail(`a group with other fields or non-number sums: ${JSON.stringify(wrong)} for ${JSON.stringify(q)}`);
      return;
    }
  }
  t.pass(`300 random queries (${groups} groups): the groups JavaScript sums from the rows, each its dimensions and number sums`);
  const everything = groupCounts(all, { from: ENDS[0], to: ENDS[ENDS.length - 1], groupBy: [] })[0];
  t.ok(everything.cost_nanos > 2 ** 32, 'sums pass 2^32 nano-USD');
  t.same(await backend.groupTotals!({ from: ENDS[0], to: ENDS[ENDS.length - 1], groupBy: [] }), [everything], 'no grouping: one group of every row');
  t.same(await backend.groupTotals!({ from: '2026-02-02', to: '2026-02-27', groupBy: [] }), [], 'no row on those days: no group, not a group of zeros');
  t.same(await backend.groupTotals!({ from: '2026-02-02', to: '2026-02-27', groupBy: ['user'] }), []);
}

t.test('SQLite: groupTotals sums what JavaScript sums from the rows', async (t) => {
  const ledger = new SqliteLedger(path.join(tempDir('gw-ledger-group-'), 'ledger.sqlite'));
  t.teardown(() => ledger.close());
  await sameAsJavaScript(t, ledger, randomRows(11, 1500, DAYS));
});

t.test('SQLite: a grouped read of a range searches the primary key index', async (t) => {
  const file = path.join(tempDir('gw-ledger-group-'), 'ledger.sqlite');
  const ledger = new SqliteLedger(file);
  await ledger.add(randomRows(12, 200, DAYS));
  await ledger.close();
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  const params: string[] = [];
  const sql = groupTotalsSql({ from: '2026-01-01', to: '2026-01-31', where: { project: 'alice' }, groupBy: ['user', 'day'] }, (d) => (d === 'user' ? 'user_name' : d), (v) => (params.push(v), '?'));
  const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((p) => p.detail).join('\n');
  t.match(plan, /SEARCH usage_ledger USING INDEX sqlite_autoindex_usage_ledger_1 \(day>\? AND day<\?\)/, plan);
});

t.test('a cluster worker sums in the SQLite file it reads rows from', async (t) => {
  const file = path.join(tempDir('gw-ledger-group-'), 'ledger.sqlite');
  const seed = new SqliteLedger(file);
  await seed.add(randomRows(13, 300, DAYS));
  await seed.close();
  const sink: SingleWriter<LedgerRow, SqliteSinkOptions> = { write: () => undefined, reconfigure: () => undefined, flush: async () => undefined, close: async () => undefined };
  const worker = new WorkerSqliteBackend(new SqliteLedger(file), sink, file);
  t.teardown(() => worker.close());
  const q: LedgerGroupQuery = { from: '2026-01-01', to: '2026-03-01', where: { provider: 'openai' }, groupBy: ['project', 'model'] };
  const want = groupCounts(await worker.rows(), q);
  t.ok(want.length > 3);
  t.same(canonical(await worker.groupTotals!(q)), canonical(want));
});

t.test('PostgreSQL: groupTotals sums what JavaScript sums from the rows', async (t) => {
  const server = await startPostgres(t);
  const ledger = new PostgresLedger(server.url);
  t.teardown(() => ledger.close());
  await sameAsJavaScript(t, ledger, randomRows(11, 1500, DAYS));
});
