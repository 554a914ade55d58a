/**
 * Aggregate reads of the ledger (`LedgerBackend.groupTotals`): the sums in
 * JavaScript over rows, which is what a backend without `groupTotals` is read with and what
 * the SQL of those with one must equal, and that SQL, shared by SQLite and PostgreSQL.
 * Counts and cost are integers (cost in nano-USD), so either way adds up to the same sums.
 */
import { COUNT_COLUMNS, zeroCounts, type LedgerDimension, type LedgerGroup, type LedgerGroupQuery, type LedgerRow } from './types.js';

const FILTERS = ['user', 'workspace', 'project', 'provider', 'model'] as const;

/** The filters of `q` that are set, as [dimension, value] pairs. */
function whereOf(q: LedgerGroupQuery): Array<[Exclude<LedgerDimension, 'day'>, string]> {
  const out: Array<[Exclude<LedgerDimension, 'day'>, string]> = [];
  for (const f of FILTERS) {
    const v = q.where?.[f];
    if (v !== undefined) out.push([f, v]);
  }
  return out;
}

/** The groups of `q` summed from `rows` (rows of other days are skipped), in the order each group's first row has. */
export function groupCounts(rows: readonly LedgerRow[], q: LedgerGroupQuery): LedgerGroup[] {
  const where = whereOf(q);
  const groups = new Map<string, LedgerGroup>();
  for (const r of rows) {
    if (r.day < q.from || r.day > q.to || !where.every(([k, v]) => r[k] === v)) continue;
    const id = q.groupBy.map((g) => r[g]).join('\u0000');
    let g = groups.get(id);
    if (!g) {
      g = zeroCounts();
      for (const d of q.groupBy) g[d] = r[d];
      groups.set(id, g);
    }
    for (const c of COUNT_COLUMNS) g[c] += r[c];
  }
  return [...groups.values()];
}

/**
 * The `SELECT` of an aggregate read on the `usage_ledger` table: `column` names a
 * dimension's column, `param` adds a bound value and returns its placeholder. Each
 * dimension comes back under its own name and each sum under its column's; a sum of
 * BIGINTs is a PostgreSQL `numeric`, which the caller turns into a number.
 */
export function groupTotalsSql(q: LedgerGroupQuery, column: (d: LedgerDimension) => string, param: (value: string) => string): string {
  const where = [`day >= ${param(q.from)}`, `day <= ${param(q.to)}`, ...whereOf(q).map(([k, v]) => `${column(k)} = ${param(v)}`)];
  const dims = q.groupBy.map((d) => `${column(d)} AS "${d}"`);
  const sums = COUNT_COLUMNS.map((c) => `SUM(${c}) AS ${c}`);
  // Without GROUP BY an aggregate answers one row even over no rows; the JavaScript sum has no group then.
  const group = q.groupBy.length > 0 ? `GROUP BY ${q.groupBy.map(column).join(', ')}` : 'HAVING COUNT(*) > 0';
  return `SELECT ${[...dims, ...sums].join(', ')} FROM usage_ledger WHERE ${where.join(' AND ')} ${group}`;
}
