import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { errorSpec } from '../../../core/errors.js';
import { startGateway } from '../../helpers/gateway.js';
import { auditLines, messages, post } from '../fixtures.js';
import { day, seededGateway, TOKEN } from './setup.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

t.test('the admin usage API: authorization, queries, CSV, not audited', async (t) => {
  const gw = await seededGateway(t);
  for (let i = 0; i < 3; i++) await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123' }, messages());

  const none = await fetch(`${gw.url}/admin/usage`);
  t.equal(none.status, 401, 'no token: 401');
  t.match(none.headers.get('www-authenticate'), /^Bearer/);
  t.match(await none.json(), { error: { code: 'GW_ERR_AUTH_MISSING' } });
  const wrong = await fetch(`${gw.url}/admin/usage`, { headers: bearer('not-the-admin-token-at-all') });
  t.equal(wrong.status, 403, 'wrong token: 403');
  await wrong.arrayBuffer();
  const ok = await fetch(`${gw.url}/admin/usage`, { headers: bearer(TOKEN) });
  t.equal(ok.status, 200, 'right token: 200');
  t.equal(ok.headers.get('cache-control'), 'no-store');
  const all = (await ok.json()) as { totals: { requests: number; cost_usd: number }; rows: unknown[] };
  t.equal(all.totals.requests, 29 + 3, 'the seeded rows and the live requests (one refused by the rate limit)');

  const byUser = (await (await fetch(`${gw.url}/admin/usage?group_by=user&from=${day(2)}&to=${day(0)}`, { headers: bearer(TOKEN) })).json()) as { rows: Array<{ user: string; requests: number; cost_usd: number }> };
  t.same(byUser.rows.slice(0, 3).map((r) => [r.user, r.requests, r.cost_usd]), [['alice', 14, 0.7], ['bob', 7, 0.35], ['carol', 8, 0.04]], 'grouped by user, largest cost first');
  t.ok(byUser.rows.some((r) => r.user === 'contractor1'), "today's live traffic is in the ledger");

  const filtered = (await (await fetch(`${gw.url}/admin/usage?project=research&model=gpt-4o&group_by=day,provider`, { headers: bearer(TOKEN) })).json()) as { rows: Array<Record<string, unknown>> };
  t.same(filtered.rows.map((r) => [r.day, r.provider, r.requests]), [[day(2), 'openai', 5], [day(0), 'openai', 2]], 'filtered by project and model, grouped by day');

  const csv = await fetch(`${gw.url}/admin/usage?format=csv&group_by=user,project&from=${day(2)}&to=${day(1)}`, { headers: bearer(TOKEN) });
  t.equal(csv.status, 200);
  t.match(csv.headers.get('content-type'), /^text\/csv/);
  t.match(csv.headers.get('content-disposition'), /attachment; filename="usage-/);
  const text = await csv.text();
  t.same(text.trimEnd().split('\r\n'), [
    'user,project,requests,errors,tokens_in,tokens_out,cache_creation_tokens,cache_read_tokens,cost_usd,unpriced',
    'alice,webide,14,0,1400,700,0,0,0.7,0',
    'bob,research,5,0,500,250,0,0,0.25,0',
    'carol,research,8,0,800,400,0,0,0.04,0',
  ]);

  const bad = await fetch(`${gw.url}/admin/usage?group_by=colour`, { headers: bearer(TOKEN) });
  t.equal(bad.status, 400);
  t.match(await bad.json(), { error: { message: /group_by: "colour"/ } });
  const badDay = await fetch(`${gw.url}/admin/usage?from=yesterday`, { headers: bearer(TOKEN) });
  t.equal(badDay.status, 400);
  await badDay.arrayBuffer();
  const post405 = await fetch(`${gw.url}/admin/usage`, { method: 'POST', headers: bearer(TOKEN), body: '{}' });
  t.equal(post405.status, 405);
  t.equal(post405.headers.get('allow'), 'GET, HEAD');
  t.match(await post405.json(), { error: { code: 'GW_ERR_METHOD_NOT_ALLOWED' } }, "core/errors.ts's code for a 405");

  const summary = (await (await fetch(`${gw.url}/admin/summary`, { headers: bearer(TOKEN) })).json()) as { budgets: Array<{ name: string; period: string; spent_usd: number }>; rejections: { hours: Array<{ rate_limit: number }>; by_user: Record<string, number> } };
  t.ok(summary.budgets.some((b) => b.name === 'research' && b.period === 'month'), 'budgets with their spend');
  t.same(summary.rejections.by_user, { contractor1: 1 }, 'the rate-limit rejection is counted');

  await sleep(150);
  const audited = auditLines(path.join(gw.dir, 'audit/audit.jsonl'));
  t.equal(audited.length, 3, 'admin calls are not audited; the three AI requests are');
  t.notOk(audited.some((l) => String(l.path).startsWith('/admin')));
});

t.test('the dashboard login: form, wrong token, HttpOnly session cookie', async (t) => {
  const gw = await seededGateway(t);
  const page = await fetch(`${gw.url}/dashboard`);
  t.equal(page.status, 401);
  t.match(await page.text(), /<form method="post" action="\/dashboard\/login"/);
  const wrong = await fetch(`${gw.url}/dashboard/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=nope', redirect: 'manual' });
  t.equal(wrong.status, 403);
  t.match(await wrong.text(), /Wrong admin token/);
  const login = await fetch(`${gw.url}/dashboard/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${TOKEN}`, redirect: 'manual' });
  t.equal(login.status, 303);
  const cookie = login.headers.get('set-cookie') ?? '';
  t.match(cookie, /^gw_admin_session=\d+\.[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict/);
  t.notMatch(cookie, TOKEN, 'the cookie does not carry the token');
  const session = cookie.split(';')[0];
  const dash = await fetch(`${gw.url}/dashboard`, { headers: { cookie: session } });
  t.equal(dash.status, 200);
  t.match(dash.headers.get('content-security-policy'), /default-src 'none'; script-src 'self'/);
  t.match(await dash.text(), /uPlot\.iife\.min\.js/);
  const api = await fetch(`${gw.url}/admin/summary`, { headers: { cookie: session } });
  t.equal(api.status, 200, 'the session opens the API the page reads');
  await api.arrayBuffer();
  const forged = await fetch(`${gw.url}/admin/summary`, { headers: { cookie: session.replace(/.$/, (c) => (c === '0' ? '1' : '0')) } });
  t.equal(forged.status, 403);
  await forged.arrayBuffer();
  const asset = await fetch(`${gw.url}/dashboard/assets/uPlot.iife.min.js`);
  t.equal(asset.status, 200, 'uPlot is served from the package');
  t.match(await asset.text(), /uPlot/);
  const escape = await fetch(`${gw.url}/dashboard/assets/..%2F..%2Fpackage.json`);
  t.equal(escape.status, 404);
  await escape.arrayBuffer();
});

t.test('no token: the admin API and dashboard are not served', async (t) => {
  const gw = await seededGateway(t, '');
  const r = await fetch(`${gw.url}/admin/usage`, { headers: bearer(TOKEN) });
  t.equal(r.status, 404);
  await r.arrayBuffer();
});

t.test('server.admin endpoints [plugins]: only the operational listener serves them', async (t) => {
  const gw = await seededGateway(t, TOKEN, 'server:\n  admin: { host: 127.0.0.1, port: 0, endpoints: [metrics, plugins] }\n');
  const main = await fetch(`${gw.url}/admin/usage`, { headers: bearer(TOKEN) });
  t.equal(main.status, 404, 'not on the workspace-facing port');
  await main.arrayBuffer();
  const admin = await fetch(`${gw.gateway.adminUrl}/admin/usage`, { headers: bearer(TOKEN) });
  t.equal(admin.status, 200);
  await admin.arrayBuffer();
});

t.test('no ledger: both endpoints answer 503 GW_ERR_LEDGER_NONE, a code of the catalogue', async (t) => {
  const gw = await startGateway(t, `providers:\n  echo: { models: [echo-1] }\nfilters:\n  - name: admin\n    config: { token: "${TOKEN}" }\n  - name: cost\n    config: { ledger: { type: none } }\n`);
  for (const path of ['/admin/usage?group_by=user', '/admin/summary']) {
    const r = await fetch(`${gw.url}${path}`, { headers: bearer(TOKEN) });
    t.equal(r.status, 503, path);
    t.match(await r.json(), { error: { code: 'GW_ERR_LEDGER_NONE', message: /ledger\.type to sqlite or postgres/ } }, `${path}: says what to set`);
  }
  t.match(errorSpec('GW_ERR_LEDGER_NONE'), { status: 503, category: 'unavailable' }, 'the error catalogue has the code, with its status');
});
