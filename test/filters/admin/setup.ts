/** A gateway with a seeded SQLite ledger, the admin filter and budgets, for the admin tests. */
import path from 'node:path';
import { SqliteLedger } from '../../../filters/cost/ledger/sqlite.js';
import type { LedgerRow } from '../../../filters/cost/ledger/types.js';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/temp-dir.js';

export const TOKEN = 'admin-token-0123456789abcdef';

const DAY = 86_400_000;
export const day = (back: number) => new Date(Date.now() - back * DAY).toISOString().slice(0, 10);

function row(back: number, user: string, workspace: string, project: string, provider: string, model: string, requests: number, usd: number): LedgerRow {
  return { day: day(back), user, workspace, project, provider, model, requests, errors: 0, tokens_in: requests * 100, tokens_out: requests * 50, cache_creation_tokens: 0, cache_read_tokens: 0, cost_nanos: Math.round(usd * 1e9), unpriced: 0 };
}

/** What the ledger holds before the gateway starts. */
export const SEED: LedgerRow[] = [
  row(2, 'alice', 'ws-alice', 'webide', 'anthropic', 'claude-sonnet-4', 10, 0.5),
  row(2, 'bob', 'ws-bob', 'research', 'openai', 'gpt-4o', 5, 0.25),
  row(1, 'alice', 'ws-alice', 'webide', 'anthropic', 'claude-sonnet-4', 4, 0.2),
  row(1, 'carol', 'ws-carol', 'research', 'anthropic', 'claude-haiku-3-5', 8, 0.04),
  row(0, 'bob', 'ws-bob', 'research', 'openai', 'gpt-4o', 2, 0.1),
];

export function adminConfig(token = TOKEN, server = ''): string {
  return `${server}providers:
  echo:
    models: [echo-1]
filters:
  - name: admin
    config:
      token: "${token}"
  - name: auth
  - name: cost
    config:
      ledger: { type: sqlite, dir: ./data, flush_interval_ms: 50 }
  - name: rate-limit
  - name: budget
    config:
      projects:
        research: { monthly_usd: 50 }
        webide: { daily_usd: 1, action: alert }
  - name: audit
    config:
      stdout: false
      file: audit/audit.jsonl
      flush_interval_ms: 20
workspaces:
  ws-abc123: { user: contractor1, project: webide }
rate_limits:
  users:
    contractor1: { requests_per_minute: 2 }
`;
}

export async function seededGateway(t: { teardown(fn: () => unknown): void }, token = TOKEN, server = ''): Promise<TestGateway> {
  const dir = tempDir('gw-admin-');
  const ledger = new SqliteLedger(path.join(dir, 'data', 'ledger.sqlite'));
  await ledger.add(SEED);
  await ledger.close();
  return startGateway(t, adminConfig(token, server), { dir });
}
