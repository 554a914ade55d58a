/**
 * `GET /admin/usage`: usage and cost from the ledger for any period, filtered by user,
 * workspace, project, model and provider, grouped by any of the ledger's dimensions,
 * as JSON or CSV (`format=csv`). The ledger keeps one row per day × user × workspace ×
 * project × provider × model; a query's groups are summed by the database (SQL `GROUP BY`
 * over the period's days), or here from the rows of those days for a backend that cannot.
 */
import { addCounts, KEY_COLUMNS, zeroCounts, type LedgerGroup, type LedgerGroupQuery, type LedgerKey } from '../cost/ledger/types.js';
import { nanosToUsd } from '../cost/price-book.js';

export type Dimension = (typeof KEY_COLUMNS)[number];
const FILTERS = ['user', 'workspace', 'project', 'model', 'provider'] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A parsed usage query. Days are inclusive `YYYY-MM-DD`. */
export interface UsageQuery {
  from: string;
  to: string;
  filters: Partial<Record<(typeof FILTERS)[number], string>>;
  groupBy: Dimension[];
}

/** One output row: the grouped dimensions, then the sums (cost in USD). */
export type UsageRow = Partial<LedgerKey> & {
  requests: number;
  errors: number;
  tokens_in: number;
  tokens_out: number;
  cache_creation_tokens: number;
  cache_read_tokens: number;
  cost_usd: number;
  unpriced: number;
};

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A day of the calendar: `2026-02-30` has the pattern, but no row can be on it. */
function isDay(s: string): boolean {
  const ms = DAY.test(s) ? Date.parse(`${s}T00:00:00Z`) : NaN;
  return Number.isFinite(ms) && day(ms) === s;
}

/** Parse query parameters; returns an error message for a bad one. Default period: the last 30 days. */
export function parseUsageQuery(q: URLSearchParams, now = Date.now()): UsageQuery | string {
  const from = q.get('from') || day(now - 29 * 86_400_000);
  const to = q.get('to') || day(now);
  for (const [name, value] of [['from', from], ['to', to]]) {
    if (!isDay(value)) return `${name}: "${value.slice(0, 40)}" is not a day (YYYY-MM-DD)`;
  }
  if (from > to) return 'from is after to';
  const filters: UsageQuery['filters'] = {};
  for (const f of FILTERS) {
    const v = q.get(f);
    if (v !== null && v !== '') filters[f] = v;
  }
  const groupBy: Dimension[] = [];
  for (const g of (q.get('group_by') ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(KEY_COLUMNS as readonly string[]).includes(g)) return `group_by: "${g}" is not one of ${KEY_COLUMNS.join(', ')}`;
    if (!groupBy.includes(g as Dimension)) groupBy.push(g as Dimension);
  }
  return { from, to, filters, groupBy };
}

/** The aggregate read of a usage query: its period, its filters, its grouping. */
export function usageGroupQuery(q: UsageQuery): LedgerGroupQuery {
  return { from: q.from, to: q.to, where: q.filters, groupBy: q.groupBy };
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One output row: the grouped dimensions, then the sums, cost in USD last. */
function usageRow(g: LedgerGroup, groupBy: readonly Dimension[]): UsageRow {
  const out: Partial<LedgerKey> = {};
  for (const d of groupBy) out[d] = g[d];
  const { requests, errors, tokens_in, tokens_out, cache_creation_tokens, cache_read_tokens, unpriced, cost_nanos } = g;
  return { ...out, requests, errors, tokens_in, tokens_out, cache_creation_tokens, cache_read_tokens, unpriced, cost_usd: nanosToUsd(cost_nanos) };
}

/**
 * Groups as output rows, largest cost first (grouped by day: in day order, then largest
 * cost first); equal costs in the order of their dimensions' values, so the answer is the
 * same whichever way the groups were summed.
 */
export function usageRows(groups: readonly LedgerGroup[], groupBy: readonly Dimension[]): UsageRow[] {
  const byKey = (a: LedgerGroup, b: LedgerGroup): number => {
    for (const d of groupBy) {
      const c = byText(a[d]!, b[d]!);
      if (c !== 0) return c;
    }
    return 0;
  };
  const byDay = groupBy.includes('day') ? (a: LedgerGroup, b: LedgerGroup) => byText(a.day!, b.day!) : () => 0;
  return [...groups].sort((a, b) => byDay(a, b) || b.cost_nanos - a.cost_nanos || byKey(a, b)).map((g) => usageRow(g, groupBy));
}

/** Every group summed into one row, or null when there is none. */
export function usageTotals(groups: readonly LedgerGroup[]): UsageRow | null {
  if (groups.length === 0) return null;
  const sum = zeroCounts();
  for (const g of groups) addCounts(sum, g);
  return usageRow(sum, []);
}

const COLUMNS = ['requests', 'errors', 'tokens_in', 'tokens_out', 'cache_creation_tokens', 'cache_read_tokens', 'cost_usd', 'unpriced'] as const;

function csvCell(v: unknown): string {
  const s = String(v ?? '');
  // A leading =, +, - or @ would be a formula to a spreadsheet: user and model names come from clients.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** CSV with a header row: the grouped dimensions, then the sums. */
export function toCsv(rows: readonly UsageRow[], groupBy: readonly Dimension[]): string {
  const header = [...groupBy, ...COLUMNS];
  const lines = [header.join(',')];
  for (const r of rows) lines.push(header.map((h) => csvCell((r as Record<string, unknown>)[h])).join(','));
  return lines.join('\r\n') + '\r\n';
}
