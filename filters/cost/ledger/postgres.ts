/**
 * The shared ledger: PostgreSQL through node-postgres, for several replicas. Writes add
 * to existing rows (`ON CONFLICT … DO UPDATE SET n = n + excluded.n`), so replicas never
 * overwrite each other's counts; a batch is one transaction.
 */
import type { Pool as PgPool, PoolClient } from 'pg';
import pg from 'pg';
import { groupTotalsSql } from './group.js';
import { COUNT_COLUMNS, KEY_COLUMNS, zeroCounts, type DayRange, type LedgerBackend, type LedgerCounts, type LedgerGroup, type LedgerGroupQuery, type LedgerQuery, type LedgerRow } from './types.js';

const col = (name: string): string => (name === 'user' ? 'user_name' : name);
const ALL = [...KEY_COLUMNS, ...COUNT_COLUMNS];
const ORDER = `ORDER BY ${KEY_COLUMNS.map(col).join(', ')}`;

const DDL = `CREATE TABLE IF NOT EXISTS usage_ledger (
  ${KEY_COLUMNS.map((k) => `${col(k)} TEXT NOT NULL`).join(',\n  ')},
  ${COUNT_COLUMNS.map((c) => `${c} BIGINT NOT NULL DEFAULT 0`).join(',\n  ')},
  PRIMARY KEY (${KEY_COLUMNS.map(col).join(', ')})
)`;
/** Serialises concurrent first starts of several replicas (CREATE TABLE IF NOT EXISTS can race). */
const DDL_LOCK = 0x6c656467; // 'ledg'
/** Rows per INSERT statement (PostgreSQL allows 65535 parameters). */
const CHUNK = 500;

function upsertSql(n: number): string {
  const values = Array.from({ length: n }, (_, i) => `(${ALL.map((_, j) => `$${i * ALL.length + j + 1}`).join(', ')})`).join(', ');
  return `INSERT INTO usage_ledger (${ALL.map(col).join(', ')}) VALUES ${values}
    ON CONFLICT (${KEY_COLUMNS.map(col).join(', ')}) DO UPDATE SET ${COUNT_COLUMNS.map((c) => `${c} = usage_ledger.${c} + excluded.${c}`).join(', ')}`;
}

function toRow(r: Record<string, string | number>): LedgerRow {
  const out: Record<string, string | number> = {};
  for (const k of KEY_COLUMNS) out[k] = String(r[col(k)]);
  for (const c of COUNT_COLUMNS) out[c] = Number(r[c]); // BIGINT arrives as a string
  return out as unknown as LedgerRow;
}

export class PostgresLedger implements LedgerBackend {
  readonly kind = 'postgres';
  private readonly pool: PgPool;
  private ready: Promise<void> | undefined;

  constructor(url: string, options: { max?: number } = {}) {
    this.pool = new pg.Pool({ connectionString: url, max: options.max ?? 4, connectionTimeoutMillis: 5000 });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  private init(): Promise<void> {
    this.ready ??= this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
      await c.query(DDL);
    }).catch((err: unknown) => {
      this.ready = undefined; // try again on the next batch
      throw err;
    });
    return this.ready;
  }

  private async tx(fn: (c: PoolClient) => Promise<void>): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await fn(c);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  private async insert(c: PoolClient, rows: readonly LedgerRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      await c.query(upsertSql(chunk.length), chunk.flatMap((r) => ALL.map((k) => r[k])));
    }
  }

  async add(rows: readonly LedgerRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.init();
    await this.tx((c) => this.insert(c, rows));
  }

  async replaceAll(rows: readonly LedgerRow[]): Promise<void> {
    await this.init();
    await this.tx(async (c) => {
      await c.query('DELETE FROM usage_ledger');
      await this.insert(c, rows);
    });
  }

  async rows(range?: DayRange): Promise<LedgerRow[]> {
    await this.init();
    // The primary key's index leads with `day`, so a range is an index scan, not the table's.
    const r = range
      ? await this.pool.query(`SELECT * FROM usage_ledger WHERE day >= $1 AND day <= $2 ${ORDER}`, [range.from, range.to])
      : await this.pool.query(`SELECT * FROM usage_ledger ${ORDER}`);
    return r.rows.map(toRow);
  }

  async totals(q: LedgerQuery): Promise<LedgerCounts> {
    await this.init();
    const where = ['day >= $1', 'day <= $2'];
    const params: string[] = [q.from, q.to];
    for (const k of ['user', 'workspace', 'project'] as const) {
      if (q[k] === undefined) continue;
      params.push(q[k]!);
      where.push(`${col(k)} = $${params.length}`);
    }
    const r = await this.pool.query(`SELECT ${COUNT_COLUMNS.map((c) => `COALESCE(SUM(${c}), 0) AS ${c}`).join(', ')} FROM usage_ledger WHERE ${where.join(' AND ')}`, params);
    const out = zeroCounts();
    for (const c of COUNT_COLUMNS) out[c] = Number(r.rows[0]?.[c] ?? 0);
    return out;
  }

  async groupTotals(q: LedgerGroupQuery): Promise<LedgerGroup[]> {
    await this.init();
    const params: string[] = [];
    const r = await this.pool.query(groupTotalsSql(q, col, (v) => `$${params.push(v)}`), params);
    return r.rows.map((g: Record<string, string>) => {
      const out: LedgerGroup = zeroCounts();
      for (const d of q.groupBy) out[d] = g[d];
      for (const c of COUNT_COLUMNS) out[c] = Number(g[c]); // a sum of BIGINTs is a numeric, as a string
      return out;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
