/**
 * Two gateway processes sharing one PostgreSQL (the ledger) and one Redis (budget
 * counters) admit exactly one budget's worth between them under concurrent load, and the
 * shared ledger rebuilt from both audit logs matches what they wrote.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ledger } from '../../../bin/ledger.js';
import { PostgresLedger } from '../../../filters/cost/ledger/postgres.js';
import type { LedgerRow } from '../../../filters/cost/ledger/types.js';
import { writeConfig } from '../../helpers/gateway.js';
import { spawnGateway } from '../../helpers/gateway-process.js';
import { startPostgres } from '../../helpers/postgres.js';
import { startRedis } from '../../helpers/redis.js';
import { auditLines, messages, post, redisStore } from '../fixtures.js';

const config = (redis: string, pg: string, auditFile: string) => `
providers:
  echo: { models: [echo-1], stream_delay_ms: 20 }
filters:
  - name: auth
  - name: cost
    config:
      ledger: { type: postgres, postgres_url: "${pg}", flush_interval_ms: 50 }
  - name: budget
    config:
      users:
        contractor1: { monthly_usd: 1.0, action: block }
  - name: audit
    config: { stdout: false, file: ${auditFile}, flush_interval_ms: 20 }
workspaces:
  ws-abc123: { user: contractor1, project: webide }
${redisStore(redis, 'budget-replicas:')}pricing:
  providers:
    echo:
      models:
        "echo-1": { input: 1000, output: 1000 }
`;

t.test('two replicas on shared PostgreSQL and Redis cannot overspend a budget', async (t) => {
  const [redis, pg] = await Promise.all([startRedis(t), startPostgres(t)]);
  const { dir, file: configA } = writeConfig(config(redis.url, pg.url, 'audit-a.log'));
  mkdirSync(path.join(dir, 'b'));
  const { file: configB } = writeConfig(config(redis.url, pg.url, 'audit-b.log'), path.join(dir, 'b'));
  const [a, b] = await Promise.all([spawnGateway(t, configA), spawnGateway(t, configB)]);

  // ~139 tokens reserved ($0.139 at $1000/MTok), ~126 used ($0.126): 7 fit in $1.00.
  const body = messages({ stream: true, max_tokens: 64, messages: [{ role: 'user', content: 'word '.repeat(50).trim() }] });
  const wave = () => Promise.all(Array.from({ length: 20 }, (_, i) => post(`${i % 2 ? a.url : b.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123' }, body)));
  const results = [...(await wave()), ...(await wave())];
  const ok = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status === 403);
  t.equal(ok.length + refused.length, 40, 'every request either served or refused with 403');
  t.equal(ok.length, 7, '7 requests fit the budget, across both replicas together (each alone would admit 7)');
  t.ok(refused.every((r) => r.headers.get('x-should-retry') === 'false'), 'refusals say do not retry');
  t.match(JSON.parse(refused[0].text), { type: 'error', error: { type: 'permission_error', message: /monthly budget of user "contractor1" \(\$1\.00\)/ } }, 'Anthropic dialect');

  await Promise.all([a.stop(), b.stop()]); // flush both ledgers' batches
  const audits = [path.join(dir, 'audit-a.log'), path.join(dir, 'b', 'audit-b.log')];
  const lines = audits.flatMap(auditLines);
  t.equal(lines.length, 40);
  const spent = lines.reduce((n, l) => n + (l.cost_usd as number), 0);
  t.ok(spent <= 1.0, `spent $${spent.toFixed(3)} of a $1.00 budget`);
  t.ok(spent > 1.0 - 0.139, 'and used what fit');

  const live = new PostgresLedger(pg.url);
  const rows = await live.rows();
  const total = rows.reduce((n, r) => n + r.cost_nanos, 0);
  t.equal(total, Math.round(spent * 1e9), 'the shared ledger holds both replicas\' spend');
  t.equal(rows.reduce((n, r) => n + r.requests, 0), 40);

  const out: string[] = [];
  t.equal(await ledger(['rebuild', ...audits.flatMap((f) => ['--from', f]), '--config', configA], (s) => out.push(s), (s) => out.push(s)), 0, out.join(''));
  const sort = (rs: LedgerRow[]) => rs.map((r) => JSON.stringify(r)).sort();
  t.same(sort(await live.rows()), sort(rows), 'rebuilt from both audit logs, the PostgreSQL ledger matches');
  await live.close();
});
