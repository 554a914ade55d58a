/**
 * The ledger's one writer per backend: requests add rows to an in-memory batch (a map
 * lookup, no I/O), and a timer writes the batch every `flushIntervalMs` or once it holds
 * `maxBatchRows` keys. A failed write keeps the rows for the next attempt, so an outage
 * of the database loses nothing while the process lives; a crash loses at most the batch
 * in flight. On exit an embedded backend writes the last batch synchronously.
 */
import type { Logger } from '../../../core/index.js';
import { addCounts, keyString, zeroCounts, type LedgerBackend, type LedgerBatching, type LedgerCounts, type LedgerQuery, type LedgerRow } from './types.js';

export interface LedgerWriterOptions extends LedgerBatching {
  log: Logger;
  /** Counts rows written and failed writes (metrics). */
  onFlush?(rows: number, ok: boolean): void;
}

export class LedgerWriter {
  private pending = new Map<string, LedgerRow>();
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout;
  private closed = false;

  constructor(readonly backend: LedgerBackend, private opts: LedgerWriterOptions) {
    this.timer = this.every(opts.flushIntervalMs);
    live.add(this);
  }

  /** A reload's batching settings for the same backend; a backend that batches too (a cluster worker's) gets them as well. */
  reconfigure(batching: LedgerBatching): void {
    if (this.closed) return;
    if (batching.flushIntervalMs !== this.opts.flushIntervalMs) {
      clearInterval(this.timer);
      this.timer = this.every(batching.flushIntervalMs);
    }
    this.opts = { ...this.opts, ...batching };
    this.backend.reconfigure?.(batching);
    if (this.pending.size >= batching.maxBatchRows) void this.flush();
  }

  private every(ms: number): NodeJS.Timeout {
    const timer = setInterval(() => void this.flush(), ms);
    timer.unref();
    return timer;
  }

  /** Add one request's row to the batch. */
  add(row: LedgerRow): void {
    if (!Number.isFinite(row.cost_nanos)) {
      // A NaN cost fails the upsert (NOT NULL) of the whole batch, every other user's rows
      // with it, at every retry. The request is kept, at no cost and flagged unpriced.
      this.opts.log.error('ledger row with a cost that is not a number: written at 0 and flagged unpriced (check the price book)', { provider: row.provider, model: row.model, cost_nanos: String(row.cost_nanos) });
      row = { ...row, cost_nanos: 0, unpriced: Math.max(row.unpriced, row.requests) };
    }
    const key = keyString(row);
    const existing = this.pending.get(key);
    if (existing) addCounts(existing, row);
    else this.pending.set(key, { ...row });
    if (this.pending.size >= this.opts.maxBatchRows) void this.flush();
  }

  /** Write the batch now; resolves once it (and any write already running) is done. */
  flush(): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      const rows = [...batch.values()];
      try {
        await this.backend.add(rows);
        this.opts.onFlush?.(rows.length, true);
      } catch (err) {
        this.opts.onFlush?.(rows.length, false);
        this.opts.log.warn('ledger write failed; keeping the batch for the next attempt', { backend: this.backend.kind, rows: rows.length, err });
        for (const [key, row] of batch) {
          const now = this.pending.get(key);
          if (now) addCounts(now, row);
          else this.pending.set(key, row);
        }
      }
    };
    // One write at a time, in order: a batch never overtakes the one before it.
    const next = (this.inFlight ?? Promise.resolve()).then(run);
    this.inFlight = next;
    return next;
  }

  /** Totals from the backend plus what is still waiting in the batch. */
  async totals(q: LedgerQuery): Promise<LedgerCounts> {
    const out = await this.backend.totals(q);
    for (const row of this.pending.values()) {
      if (row.day < q.from || row.day > q.to) continue;
      if ((q.user !== undefined && row.user !== q.user) || (q.workspace !== undefined && row.workspace !== q.workspace) || (q.project !== undefined && row.project !== q.project)) continue;
      addCounts(out, row);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
    live.delete(this);
    await this.backend.close();
  }

  /** Last chance on process exit: only a synchronous backend can still write. */
  flushSync(): void {
    if (this.pending.size === 0 || !this.backend.addSync) return;
    try {
      this.backend.addSync([...this.pending.values()]);
      this.pending.clear();
    } catch {
      // nothing more can be done on exit
    }
  }
}

export { zeroCounts };

const live = new Set<LedgerWriter>();
process.once('exit', () => {
  for (const w of live) w.flushSync();
});
