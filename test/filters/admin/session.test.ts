/**
 * `/dashboard/logout` ends the session, not only the browser's copy of the cookie: the
 * same cookie sent again (a copy kept elsewhere, a shared machine's history) no longer
 * opens the dashboard or the API. On the Redis store the logout holds on every replica;
 * other sessions stay open.
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

async function logout(url: string, cookie: string): Promise<Response> {
  const r = await fetch(`${url}/dashboard/logout`, { redirect: 'manual', headers: { cookie } });
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
