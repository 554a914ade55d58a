/**
 * `POST /dashboard/logout` ends the session, not only the browser's copy of the cookie: the
 * same cookie sent again (a copy kept elsewhere, a shared machine's history) no longer
 * opens the dashboard or the API. On the Redis store the logout holds on every replica;
 * other sessions stay open. Only a POST from the dashboard's own origin logs out: a GET
 * (any page's <img>) is a 405, another origin's form or fetch a 403.
 */
import t from 'tap';
import { EndedSessions } from '../../../filters/admin/sessions.js';
import { MemoryStore } from '../../../core/index.js';
import { startGateway } from '../../helpers/gateway.js';
import { startRedis } from '../../helpers/redis.js';
import { redisStore } from '../fixtures.js';
import { seededGateway, TOKEN } from './setup.js';

async function login(url: string): Promise<string> {
  const r = await fetch(`${url}/dashboard/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${TOKEN}` });
  await r.arrayBuffer();
  return (r.headers.get('set-cookie') ?? '').split(';')[0];
}

async function status(url: string, cookie: string): Promise<number> {
  const r = await fetch(url, { headers: { cookie }, redirect: 'manual' });
  await r.arrayBuffer();
  return r.status;
}

async function logout(url: string, cookie: string, headers: Record<string, string> = {}, method = 'POST'): Promise<Response> {
  const r = await fetch(`${url}/dashboard/logout`, { method, redirect: 'manual', headers: { cookie, ...headers } });
  await r.arrayBuffer();
  return r;
}

t.test('after /dashboard/logout the session cookie no longer grants access', async (t) => {
  const gw = await seededGateway(t);
  const cookie = await login(gw.url);
  t.match(cookie, /^gw_admin_session=\d+\./, 'logged in');
  // Two logins within one millisecond would share a cookie; the second is another session.
  await new Promise((r) => setTimeout(r, 5));
  const other = await login(gw.url);
  t.not(other, cookie);
  t.equal(await status(`${gw.url}/admin/summary`, cookie), 200, 'the session works before logout');
  const out = await logout(gw.url, cookie);
  t.equal(out.status, 303);
  t.match(out.headers.get('set-cookie'), /Max-Age=0/, 'the browser is told to forget it');
  t.equal(await status(`${gw.url}/admin/summary`, cookie), 403, 'the API refuses the ended session');
  t.equal(await status(`${gw.url}/dashboard`, cookie), 403, 'the dashboard shows the login form');
  t.equal(await status(`${gw.url}/admin/summary`, other), 200, 'another session stays open');
  t.equal(await status(`${gw.url}/admin/summary?x`, `gw_admin_session=${Date.now() + 1000}.forged`), 403, 'a forged cookie is still refused');
  t.equal((await logout(gw.url, 'gw_admin_session=1.nothing')).status, 303, 'logging out a dead cookie just clears it');
});

t.test('only a POST from the dashboard\'s own origin logs out', async (t) => {
  const gw = await seededGateway(t);
  const cookie = await login(gw.url);
  const host = new URL(gw.url).host;
  for (const method of ['GET', 'HEAD', 'PUT']) {
    const r = await logout(gw.url, cookie, {}, method);
    t.equal(r.status, 405, `${method}: 405`);
    t.equal(r.headers.get('allow'), 'POST');
    t.equal(r.headers.get('set-cookie'), null, `${method}: the cookie is left alone`);
  }
  const forged: Array<[string, Record<string, string>]> = [
    ['another site\'s form (Sec-Fetch-Site)', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
    ['another port of the same host (Sec-Fetch-Site)', { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:1' }],
    ['a plain-HTTP page elsewhere (Origin)', { origin: 'http://evil.example' }],
    ['another port of the same host (Origin)', { origin: 'http://127.0.0.1:1' }],
    ['a sandboxed frame or a no-referrer form (Origin: null)', { origin: 'null' }],
    ['a proxy\'s host that is not the origin', { origin: 'http://evil.example', 'x-forwarded-host': 'dashboard.example' }],
  ];
  for (const [what, headers] of forged) {
    const r = await logout(gw.url, cookie, headers);
    t.equal(r.status, 403, `${what}: 403`);
    t.equal(r.headers.get('set-cookie'), null, `${what}: the cookie is left alone`);
  }
  t.equal(await status(`${gw.url}/admin/summary`, cookie), 200, 'none of them ended the session');

  const own: Array<[string, Record<string, string>]> = [
    ['the page\'s fetch on localhost or HTTPS', { 'sec-fetch-site': 'same-origin', origin: gw.url }],
    ['the page\'s fetch over plain HTTP', { origin: `http://${host}` }],
    ['behind a proxy that rewrites Host', { origin: 'https://dashboard.example', 'x-forwarded-host': 'dashboard.example' }],
    ['a client that is no browser (curl)', {}],
  ];
  for (const [what, headers] of own) {
    const mine = await login(gw.url);
    await new Promise((r) => setTimeout(r, 2));
    const r = await logout(gw.url, mine, headers);
    t.equal(r.status, 303, `${what}: logged out`);
    t.equal(await status(`${gw.url}/admin/summary`, mine), 403, `${what}: the session ended`);
  }
});

t.test('on the Redis store a logout ends the session on every replica', async (t) => {
  const redis = await startRedis(t);
  const config = `providers:
  echo: { models: [echo-1] }
filters:
  - name: admin
    config:
      token: "${TOKEN}"
${redisStore(redis.url, 'admin-sessions:')}`;
  const a = await startGateway(t, config);
  const b = await startGateway(t, config);
  const cookie = await login(a.url);
  t.equal(await status(`${b.url}/dashboard`, cookie), 200, 'a session made on one replica opens the other');
  t.equal((await logout(a.url, cookie)).status, 303);
  t.equal(await status(`${b.url}/dashboard`, cookie), 403, 'logged out on one, ended on the other');
  t.equal(await status(`${a.url}/dashboard`, cookie), 403);
});

t.test('the record of ended sessions', async (t) => {
  let now = 1_000_000;
  const ended = new EndedSessions(() => now);
  await ended.end('a', now + 1000, undefined);
  t.equal(ended.has('a', undefined), true);
  t.equal(ended.has('b', undefined), false);
  now += 1001;
  t.equal(ended.has('a', undefined), false, 'forgotten once the session would have expired anyway');
  await ended.end('c', now - 1, undefined);
  t.equal(ended.has('c', undefined), false, 'an expired session needs no record');
  const store = new MemoryStore({ clock: () => now });
  const elsewhere = new EndedSessions(() => now);
  await elsewhere.end('d', now + 5000, store);
  t.equal(ended.has('d', store), true, 'a logout another process kept in the store');
});
