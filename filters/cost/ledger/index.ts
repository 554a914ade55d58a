/**
 * Opening the ledger a config asks for. Writers live in the runtime's shared state, keyed
 * by backend settings and reference-counted by the filter instances using them, so a
 * reload keeps the same writer (one writer per file, no second connection pool), with the
 * reload's batching settings, and the last pipeline to let go flushes and closes it.
 */
import path from 'node:path';
import type { PluginEnv, SharedState } from '../../../core/index.js';
import type { LedgerBackend } from './types.js';
import { LedgerWriter } from './writer.js';

/** The `ledger:` block of the `cost` filter's config. */
export interface LedgerConfig {
  /** `none` keeps no ledger; `sqlite` is embedded; `postgres` is shared by replicas. */
  type: 'none' | 'sqlite' | 'postgres';
  /** SQLite: directory of `ledger.sqlite`, relative to the config file. */
  dir: string;
  /** PostgreSQL: connection URL. */
  postgres_url: string;
  flush_interval_ms: number;
  max_batch_rows: number;
}

export const ledgerSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    type: { enum: ['none', 'sqlite', 'postgres'], default: 'none' },
    dir: { type: 'string', minLength: 1, default: './data' },
    postgres_url: { type: 'string', default: '' },
    flush_interval_ms: { type: 'integer', minimum: 10, maximum: 60000, default: 1000 },
    max_batch_rows: { type: 'integer', minimum: 1, default: 1000 },
  },
} as const;

/**
 * Create the backend for a ledger config (SQLite file path resolved against `configDir`).
 * For a config check (`validating`), SQLite opens in memory, not the file: the native module
 * is loaded and the schema made, and nothing is written beside the config. PostgreSQL's pool
 * connects on its first batch, which a check never sends.
 */
export async function openBackend(config: LedgerConfig, configDir: string, validating = false): Promise<LedgerBackend> {
  if (config.type === 'postgres') {
    if (!config.postgres_url) throw new Error('ledger.type is postgres but ledger.postgres_url is empty');
    const { PostgresLedger } = await import('./postgres.js');
    return new PostgresLedger(config.postgres_url);
  }
  const { SqliteLedger } = await import('./sqlite.js');
  return new SqliteLedger(validating ? ':memory:' : sqliteFile(config, configDir));
}

export function sqliteFile(config: Pick<LedgerConfig, 'dir'>, configDir: string): string {
  return path.join(path.resolve(configDir, config.dir), 'ledger.sqlite');
}

interface Entry {
  writer: Promise<LedgerWriter>;
  refs: number;
}

class LedgerPool {
  private readonly entries = new Map<string, Entry>();

  async acquire(config: LedgerConfig, env: PluginEnv): Promise<{ writer: LedgerWriter; release: () => Promise<void> }> {
    const key = config.type === 'postgres' ? `pg|${config.postgres_url}` : `sqlite|${sqliteFile(config, env.configDir)}`;
    let entry = this.entries.get(key);
    const reused = entry !== undefined;
    if (!entry) {
      const rows = env.metrics.counter({ name: 'gateway_ledger_rows_written_total', help: 'Ledger rows written, by backend and result', labelNames: ['backend', 'result'] });
      // In a cluster worker the SQLite file's one writer runs in the primary (see cluster.ts).
      const backend =
        config.type === 'sqlite' && env.singleWriters.remote
          ? import('./cluster.js').then((m) => m.workerSqliteBackend(sqliteFile(config, env.configDir), { flushIntervalMs: config.flush_interval_ms, maxBatchRows: config.max_batch_rows }, env))
          : openBackend(config, env.configDir, env.validating);
      const writer = backend.then(
        (backend) => new LedgerWriter(backend, { flushIntervalMs: config.flush_interval_ms, maxBatchRows: config.max_batch_rows, log: env.log, onFlush: (n, ok) => rows.inc({ backend: backend.kind, result: ok ? 'ok' : 'error' }, n) }),
      );
      entry = { writer, refs: 0 };
      this.entries.set(key, entry);
      writer.catch(() => this.entries.delete(key));
    }
    entry.refs++;
    const held = entry;
    const writer = await held.writer.catch((err: unknown) => {
      held.refs--;
      throw err;
    });
    // A reload that kept the backend: the shared writer takes its new batching settings.
    if (reused) writer.reconfigure({ flushIntervalMs: config.flush_interval_ms, maxBatchRows: config.max_batch_rows });
    let released = false;
    return {
      writer,
      release: async () => {
        if (released) return;
        released = true;
        if (--held.refs > 0) return;
        this.entries.delete(key);
        await writer.close();
      },
    };
  }

  /** Gateway shutdown: flush and close every writer. */
  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) await (await e.writer.catch(() => undefined))?.close();
  }
}

export function ledgerPool(shared: SharedState): LedgerPool {
  return shared.get('cost.ledgers', () => new LedgerPool());
}
