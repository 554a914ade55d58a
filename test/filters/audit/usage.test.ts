import path from 'node:path';
import t from 'tap';
import { makeWorkspaceKey } from '../../../filters/auth/keys.js';
import { startGateway } from '../../helpers/gateway.js';
import { auditLines, config, messages, post, SECRET, waitFor } from '../fixtures.js';

t.test('/v1/usage: today\'s counts for the caller after mixed traffic', async (t) => {
  const gw = await startGateway(t, config(`  - name: auth
    config:
      key_secret: ${SECRET}
  - name: audit
    config:
      stdout: false
      file: audit.log
      flush_interval_ms: 20
  - name: validator
    config:
      max_tokens: 100
`));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const mine = { 'x-workspace-id': 'ws-abc123' };
  await post(url, mine);
  await post(url, mine, messages({ stream: true }));
  await post(url, { 'x-api-key': makeWorkspaceKey(SECRET, 'ws-abc123') });
  await post(url, mine, messages({ max_tokens: 1000 })); // rejected: 400
  await post(url, { 'x-workspace-id': 'ws_under_score' }); // someone else
  await post(url); // anonymous 401

  const file = path.join(gw.dir, 'audit.log');
  t.ok(await waitFor(() => auditLines(file).length === 6));
  const own = auditLines(file).filter((l) => l.workspace === 'ws-abc123');
  const sum = (k: string) => own.reduce((n, l) => n + (l[k] as number), 0);

  const res = await fetch(`${gw.url}/v1/usage`, { headers: mine });
  t.equal(res.status, 200);
  t.equal(res.headers.get('cache-control'), 'no-store', 'one caller\'s usage is never cached for another');
  const body = (await res.json()) as { user: string; workspace: string; project: string; today: { period: string; since: string; user: Record<string, unknown>; workspace: Record<string, unknown> } };
  t.match(body, { user: 'contractor1', workspace: 'ws-abc123', project: 'webide' });
  t.equal(body.today.period, 'day');
  t.equal(body.today.since, `${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`, 'since the start of the UTC day');
  t.match(body.today.user, { requests: 4, errors: 1, tokens_in: sum('tokens_in'), tokens_out: sum('tokens_out') });
  t.ok(sum('tokens_in') > 0);
  t.same(body.today.workspace, body.today.user, 'one workspace: same numbers');
  t.match(body.today.user.by_provider, { echo: { requests: 4, tokens_in: sum('tokens_in') } });

  const other = (await (await fetch(`${gw.url}/v1/usage`, { headers: { 'x-workspace-id': 'ws_under_score' } })).json()) as { user: string; today: { user: { requests: number } } };
  t.equal(other.user, 'admin');
  t.equal(other.today.user.requests, 1, 'each caller sees only their own counts');
  t.equal(auditLines(file).length, 6, '/v1/usage itself is not audited');
});
