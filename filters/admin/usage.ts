/**
 * `GET /admin/usage`: usage and cost from the ledger for any period, filtered by user,
 * workspace, project, model and provider, grouped by any of the ledger's dimensions,
 * as JSON or CSV (`format=csv`). The ledger keeps one row per day × user × workspace ×
 * project × provider × model, read for the period's days only (an index range) and summed
 * here, the same way for SQLite and PostgreSQL.
 */
import { COUNT_COLUMNS, KEY_COLUMNS, type LedgerKey, type LedgerRow } from '../cost/ledger/types.js';
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

/** Rows of the period that pass the filters. */
export function selectRows(rows: readonly LedgerRow[], q: Pick<UsageQuery, 'from' | 'to' | 'filters'>): LedgerRow[] {
  const f = Object.entries(q.filters) as Array<[keyof LedgerKey, string]>;
  return rows.filter((r) => r.day >= q.from && r.day <= q.to && f.every(([k, v]) => r[k] === v));
}

/** Sum rows by the `groupBy` dimensions, largest cost first (day-grouped output in day order). */
export function groupRows(rows: readonly LedgerRow[], groupBy: readonly Dimension[]): UsageRow[] {
  const groups = new Map<string, { key: Partial<LedgerKey>; sums: Record<string, number> }>();
  for (const r of rows) {
    const id = groupBy.map((g) => r[g]).join('\u0000');
    let g = groups.get(id);
    if (!g) {
      const key: Partial<LedgerKey> = {};
      for (const d of groupBy) key[d] = r[d];
      groups.set(id, (g = { key, sums: Object.fromEntries(COUNT_COLUMNS.map((c) => [c, 0])) }));
    }
    for (const c of COUNT_COLUMNS) g.sums[c] += r[c];
  }
  const out = [...groups.values()].map(({ key, sums }) => {
    const { cost_nanos, ...rest } = sums;
    return { ...key, ...rest, cost_usd: nanosToUsd(cost_nanos) } as UsageRow;
  });
  return groupBy.includes('day') ? out.sort((a, b) => (a.day! < b.day! ? -1 : a.day! > b.day! ? 1 : b.cost_usd - a.cost_usd)) : out.sort((a, b) => b.cost_usd - a.cost_usd);
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
