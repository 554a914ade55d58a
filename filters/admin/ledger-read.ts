/**
 * How an admin call reads the ledger: aggregate reads ({@link GroupRead}) of the days it
 * needs, instead of the whole ledger: the query's period and, for the summary with
 * budgets, the budgets' month so far. (The rejections chart is counted in memory and
 * reads none.) A backend with `groupTotals` sums them in the database; from one without,
 * the rows of those days are read once and summed here. Ranges that overlap or touch are
 * read as one, so each row comes back once and the rows stay in key order, as a full read
 * has them.
 */
import { groupCounts } from '../cost/ledger/group.js';
import type { DayRange, LedgerBackend, LedgerGroup, LedgerGroupQuery, LedgerRow } from '../cost/ledger/types.js';

/** One aggregate read of the ledger. */
export type GroupRead = (q: LedgerGroupQuery) => Promise<LedgerGroup[]>;

const DAY_MS = 86_400_000;

const dayAfter = (day: string): string => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);

/** `ranges` as the fewest ranges that cover the same days, in day order. */
export function mergeRanges(ranges: readonly DayRange[]): DayRange[] {
  const out: DayRange[] = [];
  for (const r of [...ranges].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))) {
    const last = out[out.length - 1];
    if (last && r.from <= dayAfter(last.to)) {
      if (r.to > last.to) last.to = r.to;
    } else out.push({ from: r.from, to: r.to });
  }
  return out;
}

/** The rows of the days in `ranges`, in key order. */
export async function readDays(backend: LedgerBackend, ranges: readonly DayRange[]): Promise<LedgerRow[]> {
  const out: LedgerRow[] = [];
  for (const r of mergeRanges(ranges)) for (const row of await backend.rows(r)) out.push(row);
  return out;
}

/** Aggregate reads of `backend` for queries within `ranges`: its own `groupTotals`, or sums over the rows of `ranges` read (once) when it has none. */
export function groupReader(backend: LedgerBackend, ranges: readonly DayRange[]): GroupRead {
  if (backend.groupTotals) return (q) => backend.groupTotals!(q);
  let rows: Promise<LedgerRow[]> | undefined;
  return async (q) => groupCounts(await (rows ??= readDays(backend, ranges)), q);
}
