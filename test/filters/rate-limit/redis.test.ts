/**
 * The filter on the Redis store against a real redis-server: edges for requests and
 * tokens (streamed usage included), NOSCRIPT recovery, and Redis killed and restarted
 * under load with fail-open and fail-closed.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/live.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { rateLimitConfig, send, usageOf } from '../../helpers/rate-limit.js';

const store = (redis: TestRedis, fail_mode: 'open' | 'closed' = 'open', key_prefix = 'gw:') => ({ type: 'redis', redis: { url: redis.url, key_prefix, fail_mode, timeout_ms: 1000 } });
const exact = { bytes_per_token: 1e9 };

async function metric(gw: TestGateway, pattern: RegExp): Promise<number> {
  const m = pattern.exec(await (await fetch(gw.url + '/metrics')).text());
  return m ? Number(m[1]) : 0;
}

/** Retry `probe` until it returns true; fails the wait after `ms`. */
t.test('requests and tokens at and over the edge on Redis, streamed usage reconciled', async (t) => {
  const redis = await startRedis(t);
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { default: { requests_per_minute: 3, tokens_per_minute: 100 } }, store: store(redis), filter: exact }));
  for (let i = 0; i < 3; i++) t.equal((await send(gw.url, { user: 'r' })).status, 200, `request ${i + 1} of 3`);
  const over = await send(gw.url, { user: 'r' });
  t.equal(over.status, 429);
  t.ok(Number(over.headers.get('retry-after')) >= 19, 'retry-after: 20 s per request at 3 rpm');

  const streamed = await send(gw.url, { user: 'tk', text: 'x'.repeat(40), maxTokens: 60, stream: true });
  t.equal(streamed.status, 200);
  const after = await usageOf(gw.url, 'tk', 'user', 'tokens');
  t.ok(after.remaining >= 80 && after.remaining <= 90, `streamed usage (20) replaced the estimate (61): ${after.remaining} left`);
  t.equal((await send(gw.url, { user: 'tk', maxTokens: after.remaining + 5 })).status, 429, 'over the edge');
  const now = await usageOf(gw.url, 'tk', 'user', 'tokens');
  t.equal((await send(gw.url, { user: 'tk', maxTokens: now.remaining - 1 })).status, 200, 'at the edge');
  t.match(await redis.command('KEYS', 'gw:*'), /gw:\{rl:u:tk\}:bucket/);
  // ioredis 6 asks for RESP3 unless told; the store speaks RESP2, without a HELLO.
  const clients = (await redis.command('CLIENT', 'LIST')).split('\n').filter((line) => line.includes('cmd=evalsha'));
  t.ok(clients.length > 0 && clients.every((line) => / resp=2\b/.test(line)), 'the store\'s connection speaks RESP2');
  t.notMatch(await redis.command('INFO', 'commandstats'), /cmdstat_hello:/, 'no HELLO sent');
});

t.test('NOSCRIPT after a script flush: the script is loaded again transparently', async (t) => {
  const redis = await startRedis(t);
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { default: { requests_per_minute: 2 } }, store: store(redis) }));
  t.equal((await send(gw.url, { user: 'n' })).status, 200);
  t.match(await redis.command('SCRIPT', 'FLUSH'), /OK/);
  t.equal((await send(gw.url, { user: 'n' })).status, 200, 'served after the flush');
  t.equal((await send(gw.url, { user: 'n' })).status, 429, 'and still counting: the flush lost no state');
  t.ok((await metric(gw, /gateway_store_redis_errors_total\{reason="noscript"\} (\d+)/)) >= 1, 'the reload is counted');
});

t.test('Redis killed and restarted under load, fail-open: served throughout, limits return with Redis', async (t) => {
  const redis = await startRedis(t);
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { default: { requests_per_minute: 100_000 }, users: { strict: { requests_per_minute: 2 } } }, store: store(redis, 'open') }));
  let stop = false;
  const statuses: number[] = [];
  const load = (async () => {
    while (!stop) statuses.push((await send(gw.url, { user: 'load' })).status);
  })();
  await sleep(200);
  await redis.kill();
  await sleep(500);
  const down = await send(gw.url, { user: 'strict' });
  t.equal(down.status, 200, 'admitted while Redis is down (fail-open)');
  t.ok((await metric(gw, /gateway_rate_limit_store_unavailable_total\{fail_mode="open"\} (\d+)/)) > 0, 'counted');
  t.ok((await metric(gw, /gateway_store_redis_errors_total\{reason="unavailable"\} (\d+)/)) > 0, 'store errors counted');
  t.ok(gw.logs.some((l) => l.msg === 'redis store unavailable; applying fail mode until it returns'), 'logged');
  await redis.restart(); // an empty Redis: no keys, no cached scripts (loaded again on reconnect)
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'strict' })).status === 429, 20_000, 100), 'limits are enforced again once Redis is back');
  stop = true;
  await load;
  t.ok(statuses.length > 0 && statuses.every((s) => s === 200), `all ${statuses.length} load requests served`);
  t.ok(gw.logs.some((l) => l.msg === 'redis store reconnected'), 'the recovery is logged');
});

t.test('Redis killed and restarted under load, fail-closed: 503 while down, served again after', async (t) => {
  const redis = await startRedis(t);
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { default: { requests_per_minute: 100_000 } }, store: store(redis, 'closed') }));
  t.equal((await send(gw.url, { user: 'c' })).status, 200);
  await redis.kill();
  await sleep(300);
  const down = await send(gw.url, { user: 'c' });
  t.equal(down.status, 503, 'refused while the limits cannot be checked');
  t.equal((down.json().error as { type: string }).type, 'api_error', 'in the Anthropic dialect');
  t.equal(down.headers.get('retry-after'), '1');
  t.ok((await metric(gw, /gateway_rate_limit_rejections_total\{scope="store",reason="store_unavailable"\} (\d+)/)) > 0);
  await redis.restart();
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'c' })).status === 200, 20_000, 100), 'served again once Redis is back');
});

t.test('a Redis too slow to answer in time: what it reserves once it catches up is handed back', async (t) => {
  for (const fail_mode of ['closed', 'open'] as const) {
    const redis = await startRedis(t);
    const gw = await startGateway(t, rateLimitConfig({ rateLimits: { default: { requests_per_minute: 3 } }, store: { type: 'redis', redis: { url: redis.url, key_prefix: 'slow:', fail_mode, timeout_ms: 200 } } }));
    t.equal((await send(gw.url, { user: 'warm' })).status, 200, `${fail_mode}: the script is loaded`);
    // Redis stalls (a long fork, a slow script, a failover): the reserves wait in its queue.
    await redis.command('CLIENT', 'PAUSE', '800', 'ALL');
    const during = await Promise.all([1, 2, 3].map(() => send(gw.url, { user: 'dana' })));
    t.same(during.map((r) => r.status), fail_mode === 'closed' ? [503, 503, 503] : [200, 200, 200], `${fail_mode}: the fail mode decided`);
    await sleep(1000);
    t.ok(await waitFor(async () => (await usageOf(gw.url, 'dana', 'user', 'requests')).remaining === 3, 3000, 100), `${fail_mode}: the late reservations were handed back`);
    t.equal((await send(gw.url, { user: 'dana' })).status, 200, `${fail_mode}: dana is admitted after the stall`);
  }
});
