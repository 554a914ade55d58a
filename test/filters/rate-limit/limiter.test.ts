/**
 * The limiter against both stores, below the HTTP layer: exact edges, the window
 * boundary on an injected clock, reserve-then-reconcile arithmetic, scopes handing back
 * reservations, and concurrent reservations against Redis.
 */
import t from 'tap';
import { MemoryStore, RedisStore, type Store } from '../../../core/index.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { silentLogger } from '../../../core/logger.js';
import { Registry } from '../../../core/deps/prom-client.js';
import { Limiter, type Decision, type Scope } from '../../../filters/rate-limit/limiter.js';
import { startRedis } from '../../helpers/redis.js';

const user = (requests?: number, tokens?: number, name = 'alice'): Scope => ({ name: 'user', group: `rl:u:${name}`, limits: { requests, tokens } });
const global = (requests?: number, tokens?: number): Scope => ({ name: 'global', group: 'rl:global', limits: { requests, tokens } });

function clocked(start = 1_700_000_000_000) {
  let now = start;
  const clock = () => now;
  const store = new MemoryStore({ clock });
  return { store, limiter: new Limiter(store, { clock }), advance: (ms: number) => (now += ms) };
}

const sync = (d: Decision | Promise<Decision>): Decision => {
  if (d instanceof Promise) throw new Error('memory store must answer synchronously');
  return d;
};

t.test('requests: exactly the limit is admitted, the next is refused with the exact wait', async (t) => {
  const { limiter } = clocked();
  const scopes = [user(3)];
  for (let i = 0; i < 3; i++) t.ok(sync(limiter.reserve(scopes, 0)).allowed, `request ${i + 1} admitted`);
  const refused = sync(limiter.reserve(scopes, 0));
  t.notOk(refused.allowed);
  if (refused.allowed) return;
  t.equal(refused.reason, 'requests');
  t.equal(refused.scope, 'user');
  t.equal(refused.retryMs, 20_000, 'one request drips back every 60s/3');
  t.same(refused.snapshot.requests, { limit: 3, remaining: 0, resetMs: 60_000 });
});

t.test('window boundary: a spent limit does not refill at a minute boundary (no 2x burst)', async (t) => {
  const { limiter, advance } = clocked(1_700_000_039_900); // 100 ms before a wall-clock minute boundary
  const scopes = [user(60)];
  let admitted = 0;
  for (let i = 0; i < 60; i++) if (sync(limiter.reserve(scopes, 0)).allowed) admitted++;
  t.equal(admitted, 60, 'the whole limit at once');
  advance(200); // across the boundary: a fixed window would hand out 60 more here
  const d = sync(limiter.reserve(scopes, 0));
  t.notOk(d.allowed, 'nothing extra just after the boundary');
  if (!d.allowed) t.equal(d.retryMs, 800, 'the next request is due one second after the burst');
  advance(800);
  t.ok(sync(limiter.reserve(scopes, 0)).allowed, 'one request per second drips back');
  t.notOk(sync(limiter.reserve(scopes, 0)).allowed);
  advance(30_000);
  let half = 0;
  while (sync(limiter.reserve(scopes, 0)).allowed) half++;
  t.equal(half, 30, 'after 30 s, exactly 30 more');
});

t.test('tokens: reserve, then reconcile down and up', async (t) => {
  const { limiter } = clocked();
  const scopes = [user(undefined, 1000)];
  const a = sync(limiter.reserve(scopes, 600));
  const b = sync(limiter.reserve(scopes, 400));
  t.ok(a.allowed && b.allowed, '600 + 400 fill the limit exactly');
  t.notOk(sync(limiter.reserve(scopes, 1)).allowed, 'one more token is refused');
  if (!b.allowed || !a.allowed) return;
  limiter.reconcile(b.reservation, 100); // the 400-token estimate really cost 100
  const c = sync(limiter.reserve(scopes, 300));
  t.ok(c.allowed, 'the 300 refunded tokens can be spent');
  t.notOk(sync(limiter.reserve(scopes, 1)).allowed);
  limiter.reconcile(a.reservation, 1600); // the 600 estimate really cost 1600: the caller is in debt
  const d = sync(limiter.reserve(scopes, 1));
  t.notOk(d.allowed);
  if (!d.allowed) t.equal(d.retryMs, 60_060, 'the debt (1000 tokens = 60 s) is waited out first');
});

t.test('a changed limit keeps what was spent, in units', async (t) => {
  const { limiter } = clocked();
  for (let i = 0; i < 2; i++) t.ok(sync(limiter.reserve([user(2)], 0)).allowed);
  t.notOk(sync(limiter.reserve([user(2)], 0)).allowed, '2 of 2 spent');
  t.ok(sync(limiter.reserve([user(4)], 0)).allowed, 'raised to 4: the two spent still count, two more fit');
  t.ok(sync(limiter.reserve([user(4)], 0)).allowed);
  t.notOk(sync(limiter.reserve([user(4)], 0)).allowed);
  t.notOk(sync(limiter.reserve([user(1)], 0)).allowed, 'lowered to 1: over it until the spend drips away');
});

t.test('an estimate above the whole limit is capped so the request can still run', async (t) => {
  const { limiter } = clocked();
  const scopes = [user(undefined, 1000)];
  const d = sync(limiter.reserve(scopes, 5000));
  t.ok(d.allowed);
  if (!d.allowed) return;
  t.equal(d.snapshot.tokens?.remaining, 0, 'the cap, 1000, is held');
  limiter.reconcile(d.reservation, 600);
  const [s] = await limiter.peek(scopes);
  t.equal(s.result.tokens?.remaining, 400, 'the reconcile replaces the capped 1000, not the 5000 estimate');
});

t.test('a refusal by one scope hands back what the others reserved', async (t) => {
  const { limiter } = clocked();
  const scopes = [user(10, 1000), global(100, 500)];
  t.ok(sync(limiter.reserve(scopes, 400)).allowed);
  const d = sync(limiter.reserve(scopes, 400));
  t.notOk(d.allowed);
  if (!d.allowed) t.same([d.scope, d.reason], ['global', 'tokens']);
  const [u] = await limiter.peek([scopes[0]]);
  t.same(u.result.requests?.remaining, 9, "the user's refused request was handed back");
  t.same(u.result.tokens?.remaining, 600, "the user's refused tokens were handed back");
});

t.test('limit 0 refuses everything; missing limits are unlimited', async (t) => {
  const { limiter } = clocked();
  t.notOk(sync(limiter.reserve([user(0)], 0)).allowed);
  const tokens = sync(limiter.reserve([user(undefined, 0, 'no-tokens')], 100));
  t.notOk(tokens.allowed, 'a tokens limit of 0 refuses a request that costs tokens');
  if (!tokens.allowed) t.equal(tokens.reason, 'tokens');
  for (let i = 0; i < 1000; i++) if (!sync(limiter.reserve([user(undefined, undefined, 'free')], 10_000)).allowed) t.fail('refused');
  t.pass('no limit, no refusal');
});

t.test('memory store: bounded, expires lazily, no timers', async (t) => {
  let now = 0;
  const store = new MemoryStore({ maxGroups: 10, clock: () => now });
  const limiter = new Limiter(store, { clock: () => now });
  for (let i = 0; i < 100; i++) sync(limiter.reserve([user(5, undefined, `u${i}`)], 0));
  t.ok(store.size <= 10, `holds ${store.size} groups for 100 users`);
  now += 60_001;
  const [s] = await limiter.peek([user(5, undefined, 'u99')]);
  t.equal(s.result.requests?.remaining, 5, 'a refilled key reads as full');
});

t.test('Redis store: same results, atomic under concurrency, hash-tagged keys', async (t) => {
  const redis = await startRedis(t);
  const registry = new Registry();
  const store: Store = new RedisStore({ url: redis.url, keyPrefix: 'test:', failMode: 'open', timeoutMs: 2000, log: silentLogger, metrics: createMetricsFactory(registry) });
  t.teardown(() => store.close());
  t.ok(await store.ready(5000), 'connects');
  const limiter = new Limiter(store);

  const scopes = [user(3, undefined, 'edge')];
  const seq: boolean[] = [];
  for (let i = 0; i < 4; i++) seq.push((await limiter.reserve(scopes, 0)).allowed);
  t.same(seq, [true, true, true, false], 'the same edge as the memory store');

  const tokens = [user(undefined, 1000, 'busy'), global(undefined, 100_000)];
  t.ok((await limiter.reserve(tokens, 900)).allowed, '900 of 1000 spent');
  const racers = await Promise.all(Array.from({ length: 20 }, () => limiter.reserve(tokens, 100)));
  t.equal(racers.filter((d) => d.allowed).length, 1, '20 concurrent 100-token requests: exactly one fits the last 100');

  const rpm = [user(5, undefined, 'burst')];
  const burst = await Promise.all(Array.from({ length: 30 }, () => limiter.reserve(rpm, 0)));
  t.equal(burst.filter((d) => d.allowed).length, 5, '30 concurrent requests against 5 rpm: exactly 5');

  const keys = await redis.command('KEYS', 'test:*');
  t.match(keys, /test:\{rl:u:busy\}:bucket/, 'keys carry a per-identity hash tag');
  t.match(keys, /test:\{rl:global\}:bucket/);
  t.equal(keys.split('\r\n').filter((line) => line.startsWith('test:')).length, 4, 'one key a scope: edge, busy, burst, global');
  const ttl = await redis.command('PTTL', 'test:{rl:u:busy}:bucket');
  t.ok(Number(ttl.slice(1)) > 0 && Number(ttl.slice(1)) <= 60_001, 'keys expire by themselves once the bucket is full');
});

t.test('Redis store, NOSCRIPT: each scope is run again with its own arguments', async (t) => {
  const redis = await startRedis(t);
  const store: Store = new RedisStore({ url: redis.url, keyPrefix: 'ns:', failMode: 'open', timeoutMs: 2000, log: silentLogger, metrics: createMetricsFactory(new Registry()) });
  t.teardown(() => store.close());
  t.ok(await store.ready(5000), 'connects');
  const limiter = new Limiter(store);
  // Both scopes' EVALSHA fail on a fresh Redis and go again as EVAL after the limiter has
  // moved on: the user's 800 tokens must not become the global scope's capped 500.
  const scopes = [user(undefined, 1000, 'noscript'), global(undefined, 500)];
  t.match(await redis.command('SCRIPT', 'FLUSH'), /OK/);
  t.ok((await limiter.reserve(scopes, 800)).allowed);
  const [u, g] = await limiter.peek(scopes);
  t.equal(u.result.tokens?.remaining, 200, 'the user scope holds 800 of 1000');
  t.equal(g.result.tokens?.remaining, 0, 'the global scope holds its cap, 500');
});
