/**
 * The embedded ledger: one SQLite file (WAL) through better-sqlite3. Its calls are
 * synchronous, so they run only from the batch writer's timer, never on a request, and
 * a process exit can still write the last batch.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { groupTotalsSql } from './group.js';
import { COUNT_COLUMNS, KEY_COLUMNS, zeroCounts, type DayRange, type LedgerBackend, type LedgerCounts, type LedgerGroup, type LedgerGroupQuery, type LedgerQuery, type LedgerRow } from './types.js';

const require = createRequire(import.meta.url);

// `user` is reserved in PostgreSQL; both backends use the same column names.
const COLUMNS: Record<string, string> = { user: 'user_name' };
const col = (name: string): string => COLUMNS[name] ?? name;

const DDL = `CREATE TABLE IF NOT EXISTS usage_ledger (
  ${KEY_COLUMNS.map((k) => `${col(k)} TEXT NOT NULL`).join(',\n  ')},
  ${COUNT_COLUMNS.map((c) => `${c} INTEGER NOT NULL DEFAULT 0`).join(',\n  ')},
  PRIMARY KEY (${KEY_COLUMNS.map(col).join(', ')})
)`;

const UPSERT = `INSERT INTO usage_ledger (${[...KEY_COLUMNS.map(col), ...COUNT_COLUMNS].join(', ')})
  VALUES (${[...KEY_COLUMNS, ...COUNT_COLUMNS].map((c) => `@${c}`).join(', ')})
  ON CONFLICT (${KEY_COLUMNS.map(col).join(', ')}) DO UPDATE SET ${COUNT_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`;

const SELECT = `SELECT ${[...KEY_COLUMNS.map((k) => `${col(k)} AS ${k === 'user' ? '"user"' : k}`), ...COUNT_COLUMNS].join(', ')} FROM usage_ledger`;
const ORDER = `ORDER BY ${KEY_COLUMNS.map(col).join(', ')}`;
const SELECT_ALL = `${SELECT} ${ORDER}`;
/** A range of days: a search of the primary key's index (it leads with `day`), already in key order. Exported for the test of its plan. */
export const SELECT_RANGE = `${SELECT} WHERE day >= @from AND day <= @to ${ORDER}`;

export class SqliteLedger implements LedgerBackend {
  readonly kind = 'sqlite';
  private readonly db: BetterSqlite3.Database;
  private readonly upsert: BetterSqlite3.Statement;
  private readonly selectAll: BetterSqlite3.Statement;
  private readonly selectRange: BetterSqlite3.Statement;
  private readonly addMany: (rows: readonly LedgerRow[]) => void;

  /** Opens (creating) `file`, or `:memory:`; throws with an actionable message when the native module is missing. */
  constructor(readonly file: string) {
    let Database: typeof BetterSqlite3;
    try {
      Database = require('better-sqlite3') as typeof BetterSqlite3;
    } catch (err) {
      throw new Error(`the SQLite ledger needs better-sqlite3's native module (${(err as Error).message.split('\n')[0]}); run "npm rebuild better-sqlite3", or set the ledger type to postgres or none`);
    }
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(DDL);
    this.upsert = this.db.prepare(UPSERT);
    this.selectAll = this.db.prepare(SELECT_ALL);
    this.selectRange = this.db.prepare(SELECT_RANGE);
    this.addMany = this.db.transaction((rows: readonly LedgerRow[]) => {
      for (const r of rows) this.upsert.run(r);
    });
  }

  addSync(rows: readonly LedgerRow[]): void {
    this.addMany(rows);
  }

  async add(rows: readonly LedgerRow[]): Promise<void> {
    this.addMany(rows);
  }

  async replaceAll(rows: readonly LedgerRow[]): Promise<void> {
    this.db.transaction(() => {
      this.db.exec('DELETE FROM usage_ledger');
      for (const r of rows) this.upsert.run(r);
    })();
  }

  async rows(range?: DayRange): Promise<LedgerRow[]> {
    return (range ? this.selectRange.all({ from: range.from, to: range.to }) : this.selectAll.all()) as LedgerRow[];
  }

  async totals(q: LedgerQuery): Promise<LedgerCounts> {
    const where = ['day >= @from', 'day <= @to'];
    for (const k of ['user', 'workspace', 'project'] as const) if (q[k] !== undefined) where.push(`${col(k)} = @${k}`);
    const sql = `SELECT ${COUNT_COLUMNS.map((c) => `COALESCE(SUM(${c}), 0) AS ${c}`).join(', ')} FROM usage_ledger WHERE ${where.join(' AND ')}`;
    return { ...zeroCounts(), ...(this.db.prepare(sql).get(q) as LedgerCounts) };
  }

  async groupTotals(q: LedgerGroupQuery): Promise<LedgerGroup[]> {
    const params: string[] = [];
    const sql = groupTotalsSql(q, col, (v) => (params.push(v), '?'));
    return this.db.prepare(sql).all(params) as LedgerGroup[];
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
