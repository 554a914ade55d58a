/**
 * The Redis store across reloads, against real redis-servers: a reload that leaves the
 * store's settings alone keeps its connection (and counters); one that changes them gets a
 * new store, and the old one is closed once the pipeline that used it has drained, so it
 * neither holds a connection nor speaks for `gateway_store_redis_up` or the log any more;
 * a reload that fails closes the store it made.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { reloadWith, startGateway, type TestGateway } from '../../helpers/gateway.js';
import { metric, waitFor } from '../../helpers/live.js';
import { freePort } from '../../helpers/ports.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { rateLimitConfig, send } from '../../helpers/rate-limit.js';

const rateLimits = { default: { requests_per_minute: 2 } };

/** The rate-limit config on `redis`; `extraFilters` go last, or first with `ahead`. */
function config(redis: Pick<TestRedis, 'url'>, keyPrefix = 'gw:', extraFilters: unknown[] = [], ahead = false): string {
  const parsed = JSON.parse(rateLimitConfig({ rateLimits, store: { type: 'redis', redis: { url: redis.url, key_prefix: keyPrefix, fail_mode: 'closed', timeout_ms: 1000 } } })) as { filters: unknown[] };
  if (ahead) parsed.filters.unshift(...extraFilters);
  else parsed.filters.push(...extraFilters);
  return JSON.stringify(parsed, null, 2);
}

/** The ids of the clients connected to `redis`, but for the one asking. */
async function clientIds(redis: TestRedis): Promise<string[]> {
  const list = await redis.command('CLIENT', 'LIST');
  return list
    .split('\n')
    .filter((line) => line.includes('cmd=') && !line.includes('cmd=client|list'))
    .map((line) => /id=(\d+)/.exec(line)![1]);
}

async function redisUp(gw: TestGateway): Promise<number> {
  return metric(await (await fetch(gw.url + '/metrics')).text(), 'gateway_store_redis_up');
}

t.test('an unchanged store keeps its connection; a changed one replaces it, and the old is closed', async (t) => {
  const redis = await startRedis(t);
  const gw = await startGateway(t, config(redis), { watch: false });
  t.equal((await send(gw.url, { user: 'kept' })).status, 200);
  const [first] = await clientIds(redis);
  t.ok(first, 'the store is connected');

  // Another limit, the same store.
  const same = config(redis).replace('"requests_per_minute": 2', '"requests_per_minute": 3');
  t.ok((await reloadWith(gw, same)).ok);
  t.equal((await send(gw.url, { user: 'kept' })).status, 200);
  t.same(await clientIds(redis), [first], 'the same connection after a reload that left the store alone');

  // Another key prefix: a new store (new keys), the old one closed.
  t.ok((await reloadWith(gw, config(redis, 'other:'))).ok);
  t.equal((await send(gw.url, { user: 'moved' })).status, 200);
  const after = await waitFor(async () => {
    const ids = await clientIds(redis);
    return ids.length === 1 ? ids : undefined;
  }, 5000, 20);
  t.not(after[0], first, 'one connection, the new store\'s: the old store was closed');
  t.match(await redis.command('KEYS', 'other:*'), /moved/, 'the new store writes under the new prefix');
  t.equal(await redisUp(gw), 1, 'up');
});

t.test('a store moved to another Redis: the old Redis going away later is no outage of the store', async (t) => {
  const before = await startRedis(t);
  const now = await startRedis(t);
  const gw = await startGateway(t, config(before), { watch: false });
  t.equal((await send(gw.url, { user: 'a' })).status, 200);
  t.ok((await reloadWith(gw, config(now))).ok);
  t.equal((await send(gw.url, { user: 'a' })).status, 200);
  await waitFor(async () => (await clientIds(before)).length === 0, 5000, 20);
  t.pass('the old Redis has no connection from the gateway');

  await before.kill();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(await redisUp(gw), 1, 'gateway_store_redis_up speaks for the store in use only');
  t.notOk(gw.logs.some((l) => l.msg === 'redis store unavailable; applying fail mode until it returns'), 'no outage logged');
  const statuses = [(await send(gw.url, { user: 'a' })).status, (await send(gw.url, { user: 'a' })).status];
  t.same(statuses, [200, 429], 'the store in use counts on: the second request of the minute there admitted, the third refused at 2 rpm');
});

t.test('while a reload waits for its new store to connect, the store in use speaks for gateway_store_redis_up', async (t) => {
  const serving = await startRedis(t);
  const gw = await startGateway(t, config(serving), { watch: false });
  t.equal((await send(gw.url, { user: 'c' })).status, 200);
  t.equal(await redisUp(gw), 1, 'up before the reload');
  // A Redis nobody listens for: the build waits its full STORE_READY_MS for the new store.
  let settled = false;
  const reloading = reloadWith(gw, config({ url: `redis://127.0.0.1:${await freePort()}` })).finally(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk(settled, 'the reload is still waiting for its store');
  t.equal(await redisUp(gw), 1, 'the serving store is connected: 1, whatever the store being built');
  t.equal((await send(gw.url, { user: 'c' })).status, 200, 'and serves');
  t.ok((await reloading).ok, 'the reload is applied without its store, as documented');
  t.equal(await redisUp(gw), 0, 'now in use and not connected: 0');
  t.equal((await send(gw.url, { user: 'c' })).status, 503, 'its requests get the fail mode (closed)');
});

t.test('a reload that fails closes the store it made; the serving one is untouched', async (t) => {
  const serving = await startRedis(t);
  const other = await startRedis(t);
  const gw = await startGateway(t, config(serving), { watch: false });
  t.equal((await send(gw.url, { user: 'b' })).status, 200);
  const [id] = await clientIds(serving);
  // A filter after rate-limit whose create() throws: the new store was made by then.
  const refuses = path.join(gw.dir, 'refuses.mjs');
  writeFileSync(refuses, "export default { name: 'refuses', create() { throw new Error('refused on purpose'); } };\n");
  const generation = gw.gateway.current.generation;
  const result = await reloadWith(gw, config(other, 'gw:', [{ name: 'refuses', plugin: refuses }]));
  t.notOk(result.ok, 'the reload failed');
  t.equal(gw.gateway.current.generation, generation, 'the old pipeline still serves');
  await waitFor(async () => (await clientIds(other)).length === 0, 5000, 20);
  t.pass('no connection left to the Redis the failed config named');
  t.same(await clientIds(serving), [id], 'the serving store kept its connection');
  t.equal((await send(gw.url, { user: 'b' })).status, 200, 'and counts on');
  t.equal(await redisUp(gw), 1, 'up: the closed store does not speak for it');
});

t.test('a reload still building when the gateway closes: the store it made is closed too', async (t) => {
  const serving = await startRedis(t);
  const other = await startRedis(t);
  const gw = await startGateway(t, config(serving), { watch: false });
  // A filter ahead of rate-limit that takes a while: the gateway has closed by the time the
  // build asks for the new store.
  const slow = path.join(gw.dir, 'slow.mjs');
  writeFileSync(slow, "export default { name: 'slow', create() { return new Promise((resolve) => setTimeout(() => resolve({}), 500)); } };\n");
  const reloading = reloadWith(gw, config(other, 'gw:', [{ name: 'slow', plugin: slow }], true));
  await new Promise((resolve) => setTimeout(resolve, 100));
  await gw.gateway.close();
  await reloading;
  await waitFor(async () => (await clientIds(other)).length === 0, 5000, 20);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(await clientIds(other), [], 'closed, and not reconnecting: nothing keeps the process alive');
  t.same(await clientIds(serving), [], 'the serving store closed with the gateway');
});
