/**
 * A single Redis behind an endpoint a managed failover moves (ElastiCache's primary endpoint,
 * Memorystore's address), modelled by a TCP relay in front of real redis-servers: the
 * connection left on a demoted primary is refused READONLY, and a connection whose flow the
 * network dropped goes silent without a reset. Either way the store reconnects by itself —
 * before, every call got the fail mode (or waited out `timeout_ms`) until the process restarted
 * or the kernel gave up on the flow, many minutes later, with `gateway_store_redis_up` at 1.
 */
import t, { type Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { metric, waitFor } from '../../helpers/live.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { rateLimitConfig, send } from '../../helpers/rate-limit.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';

const TIMEOUT_MS = 300;

function config(proxy: TcpProxy, requestsPerMinute = 100_000): string {
  const store = { type: 'redis', redis: { url: `redis://127.0.0.1:${proxy.port}`, key_prefix: 'fo:', fail_mode: 'closed', timeout_ms: TIMEOUT_MS } };
  return rateLimitConfig({ rateLimits: { default: { requests_per_minute: requestsPerMinute } }, store });
}

/** A Redis behind a relay and a gateway storing there, which has served `user` once. */
async function relayedGateway(t: Test, user: string): Promise<{ redis: TestRedis; proxy: TcpProxy; gw: TestGateway }> {
  const redis = await startRedis(t);
  const proxy = await startTcpProxy(t, redis.port);
  const gw = await startGateway(t, config(proxy), { watch: false });
  t.equal((await send(gw.url, { user })).status, 200);
  return { redis, proxy, gw };
}

async function redisUp(gw: TestGateway): Promise<number> {
  return metric(await (await fetch(gw.url + '/metrics')).text(), 'gateway_store_redis_up');
}

async function storeErrors(gw: TestGateway): Promise<{ timeout: number; unavailable: number }> {
  const text = await (await fetch(gw.url + '/metrics')).text();
  return { timeout: metric(text, 'gateway_store_redis_errors_total{reason="timeout"}'), unavailable: metric(text, 'gateway_store_redis_errors_total{reason="unavailable"}') };
}

/** A request's status and how long it took, ms. */
async function timed(gw: TestGateway, user: string): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  const { status } = await send(gw.url, { user });
  return { status, ms: performance.now() - start };
}

t.test('a failover demotes the primary under the connection: READONLY, then the store reconnects to the new primary', async (t) => {
  const oldPrimary = await startRedis(t);
  const newPrimary = await startRedis(t);
  const proxy = await startTcpProxy(t, oldPrimary.port);
  const gw = await startGateway(t, config(proxy, 3), { watch: false });
  t.equal((await send(gw.url, { user: 'ro' })).status, 200, 'served by the first primary');
  t.match(await oldPrimary.command('KEYS', 'fo:*'), /fo:\{rl:u:ro\}/, 'counted there');

  // The failover: the endpoint now leads to the new primary, and the old one follows it as a replica.
  proxy.target = newPrimary.port;
  t.match(await oldPrimary.command('REPLICAOF', '127.0.0.1', String(newPrimary.port)), /OK/);
  await waitFor(async () => (await oldPrimary.command('ROLE')).includes('slave'), 5000, 20);

  const first = await send(gw.url, { user: 'ro' });
  t.equal(first.status, 503, 'the write refused on the replica gets the fail mode');
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'fresh' })).status === 200, 5000, 50), 'served again, through a new connection');
  t.ok(proxy.accepted >= 2, `the store connected anew (${proxy.accepted} connections)`);
  t.match(await newPrimary.command('KEYS', 'fo:*'), /fo:\{rl:u:fresh\}/, 'now counted on the new primary');
  // Limits hold there: two more for `fresh` reach its 3 a minute, the next is refused.
  t.same([(await send(gw.url, { user: 'fresh' })).status, (await send(gw.url, { user: 'fresh' })).status, (await send(gw.url, { user: 'fresh' })).status], [200, 200, 429]);
  const text = await (await fetch(gw.url + '/metrics')).text();
  t.ok(metric(text, 'gateway_store_redis_errors_total{reason="readonly"}') >= 1, 'counted as readonly');
  t.equal(metric(text, 'gateway_store_redis_up'), 1);
  t.ok(gw.logs.some((l) => String(l.msg).startsWith('redis store reached a read-only replica')), 'the cause is logged');
  t.ok(gw.logs.some((l) => l.msg === 'redis store reconnected'), 'and the recovery');
});

t.test('a connection the network silently dropped, Redis still reachable: found by a probe and replaced', async (t) => {
  const { proxy, gw } = await relayedGateway(t, 'a');
  const connections = proxy.accepted;

  proxy.blackholeOpen(); // the flow is gone; new ones are carried
  const first = await timed(gw, 'a');
  t.equal(first.status, 503, 'the call that found the silence waited out its deadline');
  t.ok(first.ms >= TIMEOUT_MS - 20, `(${Math.round(first.ms)} ms)`);
  // Before: every call waited its deadline and got the fail mode for as long as the kernel kept
  // the flow (minutes). Now: the probe finds Redis answering, the store drops the flow.
  const start = performance.now();
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'a' })).status === 200, 5000, 20), 'served again');
  t.comment(`within ${Math.round(performance.now() - start)} ms`);
  t.ok(proxy.accepted > connections + 1, 'a probe and a new connection');
  t.equal(await redisUp(gw), 1);
  t.ok(gw.logs.some((l) => String(l.msg).startsWith('redis store connection stopped answering while Redis answers a new connection')), 'logged');
  t.ok(gw.logs.some((l) => l.msg === 'redis store reconnected'), 'and the recovery');
});

t.test('a connection silently dropped and Redis unreachable: calls fail at once and the store reads down', async (t) => {
  const { proxy, gw } = await relayedGateway(t, 'b');

  proxy.blackholeOpen();
  await proxy.refuseNew();
  t.equal((await timed(gw, 'b')).status, 503, 'the first call waits out its deadline');
  // The probe is refused; after its grace (one deadline) the store lets go of the flow.
  await waitFor(async () => (await redisUp(gw)) === 0, 3000, 20);
  const before = await storeErrors(gw);
  const calls = [];
  for (let i = 0; i < 5; i++) calls.push(await timed(gw, 'b'));
  t.same(calls.map((c) => c.status), [503, 503, 503, 503, 503], 'the fail mode decides');
  // Counted by why they failed, not timed (a loaded machine stretches any request): before,
  // each of these waited out its deadline on the silent connection.
  const after = await storeErrors(gw);
  t.equal(after.timeout, before.timeout, 'none waited out the deadline');
  t.equal(after.unavailable - before.unavailable, 5, 'each refused at once: the store is not connected');
  t.comment(`slowest ${Math.round(Math.max(...calls.map((c) => c.ms)))} ms, against a ${TIMEOUT_MS} ms deadline`);
  t.ok(gw.logs.some((l) => String(l.msg).startsWith('redis store connection stopped answering and its host cannot be reached')), 'logged');
});

t.test('a stalled Redis keeps its connection: the probe connects but is not answered', async (t) => {
  const { redis, proxy, gw } = await relayedGateway(t, 'c');
  const connections = proxy.accepted;
  // Longer than the call's deadline plus the probe's (a second): the probe must give up on its own.
  await redis.command('CLIENT', 'PAUSE', '1800', 'ALL');
  t.same((await Promise.all([1, 2].map(() => send(gw.url, { user: 'c' })))).map((r) => r.status), [503, 503], 'the fail mode decides during the stall');
  await sleep(2200);
  t.equal((await send(gw.url, { user: 'c' })).status, 200, 'served after it');
  t.equal(proxy.accepted, connections + 1, 'one probe, and the same connection kept');
  t.notOk(gw.logs.some((l) => String(l.msg).startsWith('redis store connection stopped answering')), 'no connection dropped');
});
