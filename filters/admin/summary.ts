/**
 * The dashboard's data (`GET /admin/summary`): spend and tokens per day by project, user
 * and model, top workspaces, budgets with their burn rate, and rejections — one call,
 * computed from aggregate reads of the ledger so the page does no arithmetic of its own.
 * Sums stay integers (cost in nano-USD) until the answer is written, and ties are ranked
 * by name, so the answer does not depend on how (or in which order) the groups were summed.
 */
import type { BudgetConfig, BudgetEntry } from '../budget/config.js';
import type { DayRange, LedgerDimension, LedgerGroup, LedgerRow } from '../cost/ledger/types.js';
import { nanosToUsd } from '../cost/price-book.js';
import type { GroupRead } from './ledger-read.js';
import type { HourCount } from './rejections.js';
import type { UsageQuery } from './usage.js';

/** One line of a chart: a name and a value per day. */
export interface Series {
  name: string;
  values: number[];
}

/** A configured budget and how fast it is being spent. */
export interface BudgetView {
  scope: 'global' | 'user' | 'project';
  name: string;
  period: 'day' | 'month';
  action: string;
  limit_usd: number;
  spent_usd: number;
  percent: number;
  /** Spend per day so far this period. */
  burn_usd_per_day: number;
  /** Spend at the period's end at this rate. */
  projected_usd: number;
  /** Present on a `default_user` / `default_project` budget's row for a user or project without an entry. */
  default?: true;
}

/** The whole answer of `/admin/summary`. */
export interface Summary {
  from: string;
  to: string;
  days: string[];
  totals: { requests: number; tokens: number; cost_usd: number };
  spend_by_project: Series[];
  spend_by_user: Series[];
  tokens_by_model: Series[];
  top_workspaces: Array<{ workspace: string; users: string[]; requests: number; tokens: number; cost_usd: number }>;
  budgets: BudgetView[];
  rejections: { hours: HourCount[]; by_user: Record<string, number> };
  /** Values for the page's filter menus (the period's, unfiltered). */
  options: { users: string[]; projects: string[]; models: string[] };
}

const MAX_SERIES = 8;
const DAY_MS = 86_400_000;
/** The longest period a summary charts (a point per day per series): a year and a bit. */
export const MAX_SUMMARY_DAYS = 400;

const dayCount = (from: string, to: string) => (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;

/**
 * Why the summary will not chart this period, or undefined. A longer one is refused, not
 * cut short: charts that stop early would leave out what the totals count.
 */
export function summaryPeriodError(q: Pick<UsageQuery, 'from' | 'to'>): string | undefined {
  const days = dayCount(q.from, q.to);
  return days > MAX_SUMMARY_DAYS ? `from ${q.from} to ${q.to} is ${days} days; the summary charts at most ${MAX_SUMMARY_DAYS} (GET /admin/usage takes any period)` : undefined;
}

function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Per-day series of `value` (an integer sum) by the group's `dimension`, written with
 * `unit`: the largest MAX_SERIES by total (ties by name), the rest as `other`.
 */
function seriesBy(groups: readonly LedgerGroup[], days: readonly string[], dimension: LedgerDimension, value: (g: LedgerGroup) => number, unit: (n: number) => number): Series[] {
  const index = new Map(days.map((d, i) => [d, i]));
  const by = new Map<string, number[]>();
  for (const g of groups) {
    const name = g[dimension] || '(none)';
    let v = by.get(name);
    if (!v) by.set(name, (v = days.map(() => 0)));
    v[index.get(g.day!)!] += value(g);
  }
  // A series with nothing to draw (refused requests, unknown paths) would only crowd the legend.
  const ranked = [...by]
    .map(([name, values]) => ({ name, values, total: values.reduce((a, b) => a + b, 0) }))
    .filter((s) => s.total > 0)
    .sort((a, b) => b.total - a.total || byText(a.name, b.name));
  const out: Series[] = ranked.slice(0, MAX_SERIES).map(({ name, values }) => ({ name, values: values.map(unit) }));
  const rest = ranked.slice(MAX_SERIES);
  if (rest.length > 0) out.push({ name: 'other', values: days.map((_, i) => unit(rest.reduce((n, s) => n + s.values[i], 0))) });
  return out;
}

const nanos = (g: LedgerGroup) => g.cost_nanos;
const tokens = (g: LedgerGroup) => g.tokens_in + g.tokens_out + g.cache_creation_tokens + g.cache_read_tokens;
const asIs = (n: number) => n;

/** Rows a `default_user` / `default_project` budget adds at most (those nearest their limit): one per user would have no end. */
const MAX_DEFAULT_ROWS = 20;

/** Spend (nano-USD) today and this month. */
interface Spent {
  day: number;
  month: number;
}

/** The days whose spend budgets count at `now`: this UTC month up to today (a day budget's today is in it). */
export function budgetPeriod(now: number): DayRange {
  const today = new Date(now).toISOString().slice(0, 10);
  return { from: `${today.slice(0, 7)}-01`, to: today };
}

/** What budgets read of the ledger: spend by day, user and project (a ledger row is one too). */
export type SpendRow = Pick<LedgerRow, 'day' | 'user' | 'project' | 'cost_nanos'>;

/** The spend of {@link budgetPeriod}'s days, summed by day, user and project. */
export async function budgetSpend(read: GroupRead, now: number): Promise<SpendRow[]> {
  // Grouped by these three, every group has them.
  return (await read({ ...budgetPeriod(now), groupBy: ['day', 'user', 'project'] })) as SpendRow[];
}

/**
 * Every configured budget with its spend this period (from the spend of the days of
 * {@link budgetPeriod}; other days are ignored): the global, user and project entries,
 * and a `default_user` / `default_project` budget for each user or project without an
 * entry that spent under it this period, as the budget filter applies them (a request
 * without a user counts as `anonymous_user`).
 */
export function budgetViews(config: BudgetConfig | undefined, rows: readonly SpendRow[], now: number): BudgetView[] {
  if (!config) return [];
  const { from: monthStart, to: today } = budgetPeriod(now);
  const d = new Date(now);
  const daysInMonth = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  const dayFraction = Math.max((now - Date.parse(`${today}T00:00:00Z`)) / DAY_MS, 1 / 24); // at least an hour: no wild rates at 00:01
  // One pass over the month's rows; each budget then reads its sums.
  const total: Spent = { day: 0, month: 0 };
  const byUser = new Map<string, Spent>();
  const byProject = new Map<string, Spent>();
  const add = (map: Map<string, Spent>, name: string, r: SpendRow) => {
    let s = map.get(name);
    if (!s) map.set(name, (s = { day: 0, month: 0 }));
    s.month += r.cost_nanos;
    if (r.day === today) s.day += r.cost_nanos;
  };
  for (const r of rows) {
    if (r.day < monthStart || r.day > today) continue;
    total.month += r.cost_nanos;
    if (r.day === today) total.day += r.cost_nanos;
    add(byUser, r.user || config.anonymous_user, r);
    if (r.project) add(byProject, r.project, r);
  }
  const none: Spent = { day: 0, month: 0 };
  const view = (scope: BudgetView['scope'], name: string, e: BudgetEntry, period: 'day' | 'month', limit: number, spentNanos: number): BudgetView => {
    const spent = nanosToUsd(spentNanos);
    const elapsed = period === 'day' ? dayFraction : Number(today.slice(8, 10)) - 1 + dayFraction;
    const burn = spent / elapsed;
    return {
      scope, name, period, action: e.action ?? config.action, limit_usd: limit, spent_usd: spent,
      percent: limit > 0 ? Math.round((spent / limit) * 1000) / 10 : 0,
      burn_usd_per_day: Math.round(burn * 1e6) / 1e6,
      projected_usd: Math.round(burn * (period === 'day' ? 1 : daysInMonth) * 1e6) / 1e6,
    };
  };
  const periods = (e: BudgetEntry) => [['day', e.daily_usd], ['month', e.monthly_usd]] as const;
  const out: BudgetView[] = [];
  const explicit = (scope: BudgetView['scope'], name: string, e: BudgetEntry, spent: Spent) => {
    for (const [period, limit] of periods(e)) if (limit !== undefined) out.push(view(scope, name, e, period, limit, spent[period]));
  };
  if (config.global) explicit('global', '*', config.global, total);
  for (const [n, e] of Object.entries(config.users ?? {})) explicit('user', n, e, byUser.get(n) ?? none);
  for (const [n, e] of Object.entries(config.projects ?? {})) explicit('project', n, e, byProject.get(n) ?? none);
  const defaults = (scope: 'user' | 'project', e: BudgetEntry | undefined, spent: Map<string, Spent>, own: Record<string, BudgetEntry> | undefined) => {
    if (!e) return;
    for (const [period, limit] of periods(e)) {
      if (limit === undefined) continue;
      const views: BudgetView[] = [];
      for (const [name, s] of spent) if (s[period] > 0 && !Object.hasOwn(own ?? {}, name)) views.push({ ...view(scope, name, e, period, limit, s[period]), default: true });
      out.push(...views.sort((a, b) => b.percent - a.percent || b.spent_usd - a.spent_usd || byText(a.name, b.name)).slice(0, MAX_DEFAULT_ROWS));
    }
  };
  defaults('user', config.default_user, byUser, config.users);
  defaults('project', config.default_project, byProject, config.projects);
  return out.sort((a, b) => b.percent - a.percent);
}

/** The summary of a period {@link summaryPeriodError} accepts, from aggregate reads of its days. */
export async function summarize(read: GroupRead, q: Pick<UsageQuery, 'from' | 'to' | 'filters'>, budgets: BudgetView[], rejections: Summary['rejections']): Promise<Summary> {
  const period = { from: q.from, to: q.to };
  const selected = { ...period, where: q.filters };
  const filtered = Object.keys(q.filters).length > 0;
  const [byPeople, byModel, unfiltered] = await Promise.all([
    // The primary key's leading columns: SQLite sums them as it walks its index, no sort.
    read({ ...selected, groupBy: ['day', 'user', 'workspace', 'project'] }),
    read({ ...selected, groupBy: ['day', 'model'] }),
    // The menus list the period's values whatever the filters; unfiltered, the groups above have them all.
    filtered ? read({ ...period, groupBy: ['user', 'project', 'model'] }) : undefined,
  ]);
  const days = daysBetween(q.from, q.to);
  const ws = new Map<string, { users: Set<string>; requests: number; tokens: number; nanos: number }>();
  const totals = { requests: 0, tokens: 0, nanos: 0 };
  for (const g of byPeople) {
    const workspace = g.workspace!;
    let w = ws.get(workspace);
    if (!w) ws.set(workspace, (w = { users: new Set(), requests: 0, tokens: 0, nanos: 0 }));
    if (g.user) w.users.add(g.user);
    w.requests += g.requests;
    w.tokens += tokens(g);
    w.nanos += g.cost_nanos;
    totals.requests += g.requests;
    totals.tokens += tokens(g);
    totals.nanos += g.cost_nanos;
  }
  const distinct = (k: 'user' | 'project' | 'model', groups: readonly LedgerGroup[]) => [...new Set(groups.map((g) => g[k]!).filter(Boolean))].sort();
  return {
    from: q.from,
    to: q.to,
    days,
    totals: { requests: totals.requests, tokens: totals.tokens, cost_usd: nanosToUsd(totals.nanos) },
    spend_by_project: seriesBy(byPeople, days, 'project', nanos, nanosToUsd),
    spend_by_user: seriesBy(byPeople, days, 'user', nanos, nanosToUsd),
    tokens_by_model: seriesBy(byModel, days, 'model', tokens, asIs),
    top_workspaces: [...ws]
      .sort(([an, a], [bn, b]) => b.nanos - a.nanos || b.tokens - a.tokens || byText(an, bn))
      .slice(0, 10)
      .map(([workspace, w]) => ({ workspace: workspace || '(none)', users: [...w.users].sort(), requests: w.requests, tokens: w.tokens, cost_usd: nanosToUsd(w.nanos) })),
    budgets,
    rejections,
    options: { users: distinct('user', unfiltered ?? byPeople), projects: distinct('project', unfiltered ?? byPeople), models: distinct('model', unfiltered ?? byModel) },
  };
}
