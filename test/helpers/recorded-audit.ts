/**
 * Audit logs written by the test, for the tools that read them back: `ledger rebuild`
 * and `replay`. A recorded line carries no `cost_usd` (as one written before cost
 * tracking), so each tool prices it with today's book.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ledger } from '../../bin/ledger.js';
import type { ReplayReport } from '../../bin/replay-engine.js';
import { replay } from '../../bin/replay.js';
import { SqliteLedger } from '../../filters/cost/ledger/sqlite.js';
import type { LedgerRow } from '../../filters/cost/ledger/types.js';
import { writeConfig } from './gateway.js';

/** One `ai_request` line: alice on ws-a calling Bedrock with 1M input tokens at 10:00, unless `fields` say otherwise. */
export function recordedLine(fields: Record<string, unknown> & { model: string }): string {
  return JSON.stringify({ timestamp: '2026-02-04T10:00:00.000Z', event: 'ai_request', user: 'alice', workspace: 'ws-a', provider: 'bedrock', tokens_in: 1_000_000, tokens_out: 0, latency_ms: 1, status: 200, ...fields });
}

/** Write `lines` as `dir/name`; its path. */
export function writeAuditLog(dir: string, lines: string[], name = 'audit.jsonl'): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** `ledger rebuild` from one recorded line a model, under a Bedrock config with a SQLite ledger: its exit code, output and the rows it wrote. */
export async function rebuildBedrockLedger(models: string[]): Promise<{ code: number; out: string; rows: LedgerRow[] }> {
  const { dir, file } = writeConfig(`server: { port: 0 }
providers:
  bedrock: { region: us-east-1, access_key_id: AKIALEDGER0000000001, secret_access_key: ledgerSecret/000000000000 }
filters:
  - name: cost
    config:
      ledger: { type: sqlite, dir: ./data }
`);
  const audit = writeAuditLog(dir, models.map((model) => recordedLine({ model, attempts: 1 })), 'old.jsonl');
  const out: string[] = [];
  const code = await ledger(['rebuild', '--from', audit, '--config', file], (s) => out.push(s), (s) => out.push(s));
  const db = new SqliteLedger(path.join(dir, 'data', 'ledger.sqlite'));
  const rows = await db.rows();
  await db.close();
  return { code, out: out.join(''), rows };
}

let reports = 0;

/** `replay --json` of `audit` through `config`, the report written beside the log: its exit code, output, and the report (none when it failed). */
export async function replayReport(config: string, audit: string): Promise<{ code: number; out: string; report?: ReplayReport }> {
  const json = path.join(path.dirname(audit), `report-${++reports}.json`);
  const out: string[] = [];
  const code = await replay(['--config', config, '--audit', audit, '--json', json], (s) => out.push(s), (s) => out.push(s));
  return { code, out: out.join(''), report: code === 0 ? (JSON.parse(readFileSync(json, 'utf8')) as ReplayReport) : undefined };
}
