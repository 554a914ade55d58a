/**
 * Client-chosen model names in the ledger: a request the gateway refused (anonymous, or
 * refused by the validator's model allowlist) never reached a provider, so its model is
 * not kept; a request that did keeps a model of at most 200 characters. /admin/summary's
 * menus stay small, and `ledger rebuild` from the audit log gives the same rows.
 */
import path from 'node:path';
import t from 'tap';
import { ledger } from '../../../bin/ledger.js';
import { ledgerModel, MAX_MODEL_LENGTH, rowFromAudit } from '../../../filters/cost/ledger/entry.js';
import { SqliteLedger } from '../../../filters/cost/ledger/sqlite.js';
import type { LedgerRow } from '../../../filters/cost/ledger/types.js';
import { startGateway } from '../../helpers/gateway.js';
import { auditLines, waitFor } from '../fixtures.js';
import { TOKEN } from './setup.js';

const config = (allow: string) => `providers:
  echo:
    models: [echo-1]
filters:
  - name: admin
    config:
      token: "${TOKEN}"
  - name: auth
  - name: cost
    config:
      ledger: { type: sqlite, dir: ./data, flush_interval_ms: 50 }
  - name: audit
    config: { stdout: false, file: audit/audit.jsonl, flush_interval_ms: 20 }
  - name: validator
    config:
      ${allow}
workspaces:
  ws-abc123: { user: contractor1, project: webide }
`;

const send = (url: string, model: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }) }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

const sorted = (rows: LedgerRow[]) => rows.map((r) => ({ ...r })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

for (const [who, headers, status] of [['a known workspace', { 'x-workspace-id': 'ws-abc123' }, 403], ['an anonymous client', {}, 401]] as const) {
  t.test(`refused requests from ${who} put no model name in the ledger or the dashboard`, async (t) => {
    const gw = await startGateway(t, config('models: [echo-1]'));
    const N = 30;
    const statuses = new Set<number>();
    for (let i = 0; i < N; i++) statuses.add(await send(gw.url, `${'x'.repeat(100_000)}-${i}`, headers));
    t.same([...statuses], [status], `every request refused ${status}`);
    const r = await fetch(`${gw.url}/admin/summary`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const text = await r.text();
    const d = JSON.parse(text) as { options: { models: string[] } };
    t.same(d.options.models, [], 'no refused model in the menu');
    t.ok(text.length < 20_000, `the summary stays small (${text.length} bytes)`);
    const usage = (await (await fetch(`${gw.url}/admin/usage?group_by=model`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { rows: Array<{ model: string; requests: number; errors: number }> };
    t.same(usage.rows.map((u) => [u.model, u.requests, u.errors]), [['', N, N]], 'the refusals are still counted, under the model ""');
  });
}

t.test('a model a provider was asked about is kept, cut to 200 characters; a rebuild gives the same rows', async (t) => {
  const gw = await startGateway(t, config('max_tokens: 1000'));
  const long = `m${'é'.repeat(300)}`;
  t.equal(await send(gw.url, long, { 'x-workspace-id': 'ws-abc123' }), 200, 'the echo provider answers any model');
  t.equal(await send(gw.url, 'echo-1', { 'x-workspace-id': 'ws-abc123' }), 200);
  t.equal(await send(gw.url, 'refused-model', {}), 401);
  const audit = path.join(gw.dir, 'audit', 'audit.jsonl');
  t.ok(await waitFor(() => auditLines(audit).length === 3), 'three audit lines');
  await gw.gateway.close();
  const db = path.join(gw.dir, 'data', 'ledger.sqlite');
  const live = new SqliteLedger(db);
  const rows = await live.rows();
  await live.close();
  t.same(rows.map((r) => r.model).sort(), ['', 'echo-1', long.slice(0, MAX_MODEL_LENGTH)]);

  const out: string[] = [];
  t.equal(await ledger(['rebuild', '--from', audit, '--config', gw.configPath], (s) => out.push(s), (s) => out.push(s)), 0, out.join(''));
  const rebuilt = new SqliteLedger(db);
  t.same(sorted(await rebuilt.rows()), sorted(rows), 'the rebuilt ledger matches the live one');
  await rebuilt.close();
});

t.test('ledgerModel', async (t) => {
  t.equal(ledgerModel({ model: 'gpt-4o', attempts: 0 }), '', 'never sent upstream');
  t.equal(ledgerModel({ model: 'gpt-4o', attempts: 0, cache_hit: true }), 'gpt-4o', 'answered from the cache: a provider answered it before');
  t.equal(ledgerModel({ model: 'gpt-4o', attempts: 2 }), 'gpt-4o');
  t.equal(ledgerModel({ model: 'gpt-4o' }), 'gpt-4o', 'a line from before `attempts` keeps its model');
  t.equal(ledgerModel({ model: null, attempts: 1 }), '');
  const pair = `${'a'.repeat(MAX_MODEL_LENGTH - 1)}😀tail`;
  t.equal(ledgerModel({ model: pair, attempts: 1 }), 'a'.repeat(MAX_MODEL_LENGTH - 1), 'a surrogate pair is not split');
  t.equal(ledgerModel({ model: 'b'.repeat(500) }).length, MAX_MODEL_LENGTH);
  t.match(rowFromAudit({ timestamp: '2026-12-01T00:00:00Z', status: 403, model: 'x', attempts: 0 }), { model: '', requests: 1, errors: 1 });
});
