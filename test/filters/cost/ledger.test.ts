import path from 'node:path';
import t from 'tap';
import { ledger } from '../../../bin/ledger.js';
import { SqliteLedger } from '../../../filters/cost/ledger/sqlite.js';
import type { LedgerRow } from '../../../filters/cost/ledger/types.js';
import { startGateway } from '../../helpers/gateway.js';
import { rebuildBedrockLedger } from '../../helpers/recorded-audit.js';
import { auditLines, config, messages, post, waitFor } from '../fixtures.js';

const yaml = config(`  - name: auth
  - name: cost
    config:
      ledger: { type: sqlite, dir: ./data, flush_interval_ms: 50 }
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 20 }
  - name: validator
    config: { max_tokens: 1000 }
`, `pricing:
  providers:
    echo:
      models:
        "echo-1": { input: 3, output: 15 }
        "echo-cheap": { input: 0.25, output: 1.25 }
`);

async function traffic(base: string, round: number): Promise<number> {
  const url = `${base}/v1/echo/v1/messages`;
  const sent = [
    post(url, { 'x-workspace-id': 'ws-abc123' }, messages({ messages: [{ role: 'user', content: `round ${round}: ${'word '.repeat(40)}` }] })),
    post(url, { 'x-workspace-id': 'ws-abc123' }, messages({ stream: true })),
    post(url, { 'x-workspace-id': 'ws-abc123' }, messages({ model: 'echo-cheap' })),
    post(url, { 'x-workspace-id': 'ws_under_score' }),
    post(url, { 'x-workspace-id': 'ws-abc123' }, messages({ max_tokens: 5000 })), // refused by the validator
    post(url), // no identity: 401
  ];
  await Promise.all(sent);
  return sent.length;
}

const sorted = (rows: LedgerRow[]) => rows.map((r) => ({ ...r })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

t.test('the SQLite ledger survives a restart and a rebuild from the audit log matches it', async (t) => {
  const first = await startGateway(t, yaml);
  const dir = first.dir;
  const audit = path.join(dir, 'audit.log');
  let expected = await traffic(first.url, 1);
  await first.gateway.close(); // flushes the batch

  const db = path.join(dir, 'data', 'ledger.sqlite');
  const afterFirst = await new SqliteLedger(db).rows();
  t.ok(afterFirst.length >= 3, 'rows written');

  const second = await startGateway(t, yaml, { dir });
  expected += await traffic(second.url, 2);
  t.ok(await waitFor(() => auditLines(audit).length === expected));
  await second.gateway.close();

  const live = new SqliteLedger(db);
  const rows = await live.rows();
  await live.close();
  const total = (rs: LedgerRow[], k: keyof LedgerRow) => rs.reduce((n, r) => n + (r[k] as number), 0);
  t.equal(total(rows, 'requests'), expected, 'every audited request is in the ledger, across the restart');
  t.equal(total(rows, 'requests'), 2 * total(afterFirst, 'requests'), 'the first run\'s rows survived and were added to');
  const lines = auditLines(audit);
  t.equal(total(rows, 'cost_nanos'), lines.reduce((n, l) => n + Math.round((l.cost_usd as number) * 1e9), 0), 'ledger cost equals the audit log\'s');
  t.ok(total(rows, 'cost_nanos') > 0);
  const contractor = rows.filter((r) => r.user === 'contractor1' && r.model === 'echo-1');
  t.equal(contractor.length, 1, 'one row per day × user × workspace × project × provider × model');
  t.match(contractor[0], { workspace: 'ws-abc123', project: 'webide', provider: 'echo', day: new Date().toISOString().slice(0, 10), requests: 4, errors: 0 });
  t.match(rows.find((r) => r.user === 'contractor1' && r.model === ''), { requests: 2, errors: 2 }, 'the validator\'s refusals never reached a provider: counted without their model');
  t.match(rows.find((r) => r.model === 'echo-cheap'), { requests: 2 });
  t.match(rows.find((r) => r.user === ''), { requests: 2, errors: 2 }, 'unattributed requests are kept too');

  const out: string[] = [];
  const code = await ledger(['rebuild', '--from', audit, '--config', path.join(dir, 'config.yaml')], (s) => out.push(s), (s) => out.push(s));
  t.equal(code, 0, out.join(''));
  t.match(out.join(''), new RegExp(`ledger rebuilt: ${expected} audit lines`));
  const rebuilt = new SqliteLedger(db);
  t.same(sorted(await rebuilt.rows()), sorted(rows), 'the rebuilt ledger matches the live one row for row');
  await rebuilt.close();
});

t.test('ledger rebuild refuses a config without a ledger', async (t) => {
  const gw = await startGateway(t, config('  - name: cost\n'));
  const err: string[] = [];
  t.equal(await ledger(['rebuild', '--from', 'x.jsonl', '--config', gw.configPath], () => undefined, (s) => err.push(s)), 1);
  t.match(err.join(''), /keeps no ledger/);
});

t.test('rebuild prices a line from before cost tracking by its Bedrock base id, as the gateway would', async (t) => {
  const base = 'anthropic.claude-3-haiku-20240307-v1:0';
  const custom = `arn:aws:bedrock:us-east-1:123456789012:custom-model/${base}/abc`;
  const { code, out, rows } = await rebuildBedrockLedger([`us.${base}`, custom]);
  t.equal(code, 0, out);
  t.match(rows.find((r) => r.model === `us.${base}`), { cost_nanos: 0.25e9, unpriced: 0 }, "the profile at its base id's $0.25/MTok");
  t.match(rows.find((r) => r.model === custom), { cost_nanos: 0, unpriced: 1 }, 'a fine-tune unpriced');
});
