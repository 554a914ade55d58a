/**
 * The SQLite ledger under `server.workers` > 1. SQLite takes one writer at a time, and a
 * writer per worker would contend for the file lock on every batch; so the primary holds
 * the one {@link LedgerWriter} over the file, and each worker's backend sends its batches
 * there through `env.singleWriters`. Reads (`/v1/usage` totals) open the file directly:
 * WAL mode lets other processes read while one writes. PostgreSQL needs none of this.
 */
import { defineWriterKind, type PluginEnv, type SingleWriter } from '../../../core/index.js';
import { SqliteLedger } from './sqlite.js';
import type { DayRange, LedgerBackend, LedgerBatching, LedgerCounts, LedgerGroup, LedgerGroupQuery, LedgerQuery, LedgerRow } from './types.js';
import { LedgerWriter } from './writer.js';

/** What the primary needs to open the writer (JSON, it crosses IPC). */
export interface SqliteSinkOptions {
  file: string;
  flushIntervalMs: number;
  maxBatchRows: number;
}

/** The primary's writer: rows from every worker, summed and upserted in batches. */
export const sqliteLedgerKind = defineWriterKind<LedgerRow, SqliteSinkOptions>(import.meta.url, 'sqliteLedgerKind', (o, host) => {
  const writer = new LedgerWriter(new SqliteLedger(o.file), { flushIntervalMs: o.flushIntervalMs, maxBatchRows: o.maxBatchRows, log: host.log });
  return { write: (row) => writer.add(row), reconfigure: (o) => writer.reconfigure({ flushIntervalMs: o.flushIntervalMs, maxBatchRows: o.maxBatchRows }), flush: () => writer.flush(), close: () => writer.close() };
});

/** A worker's backend: writes go to the primary's writer, reads to the file. */
export class WorkerSqliteBackend implements LedgerBackend {
  readonly kind = 'sqlite';

  constructor(
    private readonly reader: SqliteLedger,
    private readonly sink: SingleWriter<LedgerRow, SqliteSinkOptions>,
    private readonly file: string,
  ) {}

  /** The primary's writer batches too: it takes a reload's settings as well. */
  reconfigure(batching: LedgerBatching): void {
    this.sink.reconfigure({ file: this.file, flushIntervalMs: batching.flushIntervalMs, maxBatchRows: batching.maxBatchRows });
  }

  async add(rows: readonly LedgerRow[]): Promise<void> {
    for (const row of rows) this.sink.write(row);
  }

  async replaceAll(): Promise<void> {
    throw new Error('a cluster worker does not rebuild the ledger; run `ai-gateway ledger rebuild`');
  }

  rows(range?: DayRange): Promise<LedgerRow[]> {
    return this.reader.rows(range);
  }

  /** What the file holds; rows still batched in the primary (up to its flush interval) are not in it yet. */
  totals(q: LedgerQuery): Promise<LedgerCounts> {
    return this.reader.totals(q);
  }

  /** Summed in the file, as `rows` reads it. */
  groupTotals(q: LedgerGroupQuery): Promise<LedgerGroup[]> {
    return this.reader.groupTotals(q);
  }

  async close(): Promise<void> {
    await this.sink.close();
    await this.reader.close();
  }
}

export function workerSqliteBackend(file: string, options: Omit<SqliteSinkOptions, 'file'>, env: Pick<PluginEnv, 'singleWriters'>): LedgerBackend {
  const reader = new SqliteLedger(file);
  return new WorkerSqliteBackend(reader, env.singleWriters.open(sqliteLedgerKind, file, { file, ...options }), file);
}
