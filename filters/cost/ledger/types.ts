/**
 * The usage ledger's shape: usage and cost summed by UTC day × user × workspace × project
 * × provider × model. Cost is integer nano-USD so every backend, the live feed and a
 * rebuild from the audit log add up to identical totals.
 */

/** The dimensions of one ledger row. Absent identity parts are `''`. */
export interface LedgerKey {
  day: string;
  user: string;
  workspace: string;
  project: string;
  provider: string;
  model: string;
}

/** The sums kept per row. */
export interface LedgerCounts {
  requests: number;
  /** Requests that ended with status 400 or above. */
  errors: number;
  tokens_in: number;
  tokens_out: number;
  cache_creation_tokens: number;
  cache_read_tokens: number;
  cost_nanos: number;
  /** Requests that used tokens of a model with no price. */
  unpriced: number;
}

export interface LedgerRow extends LedgerKey, LedgerCounts {}

/** A span of UTC days, inclusive at both ends (`YYYY-MM-DD`). */
export interface DayRange {
  from: string;
  to: string;
}

/** A filter over rows for totals; days are inclusive `YYYY-MM-DD`. */
export interface LedgerQuery extends DayRange {
  user?: string;
  workspace?: string;
  project?: string;
}

/** A dimension of the ledger: a column a read can group by (and, but for `day`, filter on). */
export type LedgerDimension = (typeof KEY_COLUMNS)[number];

/**
 * An aggregate read: the rows of the days `from`..`to` (inclusive) that match every value
 * in `where` exactly, summed per distinct combination of the `groupBy` dimensions.
 * @example
 * // spend per user and day of one project, for a week
 * { from: '2026-11-26', to: '2026-12-02', where: { project: 'webide' }, groupBy: ['user', 'day'] }
 */
export interface LedgerGroupQuery extends DayRange {
  where?: Partial<Record<Exclude<LedgerDimension, 'day'>, string>>;
  /** None: one group of every matching row (and no group when no row matches). */
  groupBy: readonly LedgerDimension[];
}

/** One group of an aggregate read: the values of its `groupBy` dimensions, then the sums. */
export type LedgerGroup = Partial<LedgerKey> & LedgerCounts;

/** How the ledger's writer batches rows; a reload may change it. */
export interface LedgerBatching {
  flushIntervalMs: number;
  maxBatchRows: number;
}

/** Where rows are kept. Writes add to existing rows (upsert with sums). */
export interface LedgerBackend {
  /** `sqlite` or `postgres`. */
  readonly kind: string;
  add(rows: readonly LedgerRow[]): Promise<void>;
  /** Synchronous add for a last flush on process exit; only embedded backends have one. */
  addSync?(rows: readonly LedgerRow[]): void;
  /** Replace every row at once (a rebuild), in one transaction. */
  replaceAll(rows: readonly LedgerRow[]): Promise<void>;
  /**
   * Rows ordered by key: every row (rebuild checks, exports), or only those of the days in
   * `range`, read through the index the primary key makes (it leads with `day`).
   * @example
   * await backend.rows({ from: '2026-11-26', to: '2026-12-02' }); // a week, not the year
   */
  rows(range?: DayRange): Promise<LedgerRow[]>;
  totals(q: LedgerQuery): Promise<LedgerCounts>;
  /**
   * Optional: the groups of an aggregate read, summed by the database (SQL `GROUP BY`), so
   * a month's summary moves a few hundred groups instead of every row. The groups are
   * exactly those `groupCounts` (group.ts) makes of `rows(q)`, in no particular order: a reader
   * sorts them itself. A backend without it is read with `rows` and summed in JavaScript.
   * @example
   * await backend.groupTotals?.({ from: '2026-11-01', to: '2026-11-30', groupBy: ['project', 'day'] });
   */
  groupTotals?(q: LedgerGroupQuery): Promise<LedgerGroup[]>;
  /** New batching settings (a reload), for a backend that batches rows itself. */
  reconfigure?(batching: LedgerBatching): void;
  close(): Promise<void>;
}

export const KEY_COLUMNS = ['day', 'user', 'workspace', 'project', 'provider', 'model'] as const;
export const COUNT_COLUMNS = ['requests', 'errors', 'tokens_in', 'tokens_out', 'cache_creation_tokens', 'cache_read_tokens', 'cost_nanos', 'unpriced'] as const;

export function zeroCounts(): LedgerCounts {
  return { requests: 0, errors: 0, tokens_in: 0, tokens_out: 0, cache_creation_tokens: 0, cache_read_tokens: 0, cost_nanos: 0, unpriced: 0 };
}

export function keyString(k: LedgerKey): string {
  return `${k.day}\u0000${k.user}\u0000${k.workspace}\u0000${k.project}\u0000${k.provider}\u0000${k.model}`;
}

/** Add `b`'s counts into `a`. */
export function addCounts(a: LedgerCounts, b: LedgerCounts): void {
  for (const c of COUNT_COLUMNS) a[c] += b[c];
}
