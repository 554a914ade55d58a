/**
 * Adjustments batched per scope (a shared store's mode): reconciles and hand-backs summed
 * and sent once per scope after the delay, flushed before a read of the state and at
 * close, failures reported and never thrown; and against Redis, the round trips saved
 * and the scripts of one synchronous stretch sent in one write.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore, RedisStore, type AtomicScript, type Store } from '../../../core/index.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { silentLogger } from '../../../core/logger.js';
import { Registry } from '../../../core/deps/prom-client.js';
import { Mode } from '../../../filters/rate-limit/gcra.js';
import { Limiter, type Decision, type Reservation, type Scope } from '../../../filters/rate-limit/limiter.js';
import { startRedis } from '../../helpers/redis.js';

const user = (requests?: number, tokens?: number, name = 'alice'): Scope => ({ name: 'user', group: `rl:u:${name}`, limits: { requests, tokens } });
const global = (requests?: number, tokens?: number): Scope => ({ name: 'global', group: 'rl:global', limits: { requests, tokens } });

/** A store that counts the adjustments it runs (mode 1) and can be made to fail them. */
class CountingStore implements Store {
  readonly type = 'counting';
  readonly failMode = 'open' as const;
  adjustments: Array<{ group: string; requests: number; tokens: number }> = [];
  failAdjustments = false;
  constructor(private readonly inner: Store) {}
  run<R>(script: AtomicScript<R>, group: string, keys: readonly string[], args: readonly number[]): R | Promise<R> {
    if (args[0] === Mode.Adjust) {
      this.adjustments.push({ group, requests: args[4], tokens: args[5] });
      if (this.failAdjustments) return Promise.reject(new Error('store down'));
    }
    return this.inner.run(script, group, keys, args);
  }
  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The memory store behind a counter, on a clock that stands still (no drip between reads). */
function batched(delayMs = 20) {
  const clock = (): number => 1_700_000_000_000;
  const store = new CountingStore(new MemoryStore({ clock }));
  const errors: unknown[] = [];
  const limiter = new Limiter(store, { clock, batching: { delayMs, onError: (err) => errors.push(err) } });
  return { store, limiter, errors, clock };
}

async function admitted(d: Decision | Promise<Decision>): Promise<Reservation> {
  const decision = await d;
  if (!decision.allowed) throw new Error(`refused by ${decision.scope}`);
  return decision.reservation;
}

t.test('reconciles of one scope are summed and sent once, after the delay', async (t) => {
  const { store, limiter } = batched(20);
  const scopes = [user(undefined, 10_000), global(undefined, 100_000)];
  const held: Reservation[] = [];
  for (let i = 0; i < 10; i++) held.push(await admitted(limiter.reserve(scopes, 400)));
  for (const r of held) t.equal(limiter.reconcile(r, 100), undefined, 'nothing to wait for');
  t.same(store.adjustments, [], 'nothing sent yet');
  await sleep(60);
  t.same(
    store.adjustments.sort((a, b) => a.group.localeCompare(b.group)),
    [
      { group: 'rl:global', requests: 0, tokens: -3000 },
      { group: 'rl:u:alice', requests: 0, tokens: -3000 },
    ],
    'one adjustment per scope: ten refunds of 300 tokens each',
  );
  const [u, g] = await limiter.peek(scopes);
  t.equal(u.result.tokens?.remaining, 9000, 'the user was charged what was used');
  t.equal(g.result.tokens?.remaining, 99_000);
});

t.test('a read of the state sends what is pending first', async (t) => {
  const { store, limiter } = batched(60_000);
  const scopes = [user(undefined, 1000)];
  limiter.reconcile(await admitted(limiter.reserve(scopes, 600)), 50);
  const [u] = await limiter.peek(scopes);
  t.equal(u.result.tokens?.remaining, 950, 'the refund is in the answer, long before the delay');
  t.equal(store.adjustments.length, 1);
});

t.test('a refusal by one scope hands back what the others reserved, batched too', async (t) => {
  const { store, limiter } = batched(60_000);
  const scopes = [user(10, 1000), global(100, 500)];
  await admitted(limiter.reserve(scopes, 400));
  const d = await limiter.reserve(scopes, 400);
  t.notOk(d.allowed, 'the global scope refuses');
  t.same(store.adjustments, [], 'the hand-back waits for the batch');
  const [u] = await limiter.peek([scopes[0]]);
  t.equal(u.result.requests?.remaining, 9, "the user's refused request was handed back");
  t.equal(u.result.tokens?.remaining, 600, "the user's refused tokens were handed back");
  t.same(store.adjustments, [{ group: 'rl:u:alice', requests: -1, tokens: -400 }]);
});

t.test('close sends what is pending; an adjustment that sums to nothing is not sent', async (t) => {
  const { store, limiter, clock: batchedClock } = batched(60_000);
  const scopes = [user(undefined, 1000, 'bob')];
  const a = await admitted(limiter.reserve(scopes, 100));
  const b = await admitted(limiter.reserve(scopes, 100));
  limiter.reconcile(a, 150); // +50
  limiter.reconcile(b, 50); // -50
  await limiter.close();
  t.same(store.adjustments, [], '+50 and -50 cancel out');
  limiter.reconcile(await admitted(limiter.reserve(scopes, 100)), 20);
  await limiter.close();
  t.same(store.adjustments, [{ group: 'rl:u:bob', requests: 0, tokens: -80 }], 'sent at close, not after the delay');
  const unbatched = new Limiter(store, { clock: batchedClock });
  const [s] = await unbatched.peek(scopes);
  t.equal(s.result.tokens?.remaining, 1000 - (150 + 50 + 20), 'the store holds the sums');
});

t.test('a failed batch is reported, never thrown, and the limiter goes on', async (t) => {
  const { store, limiter, errors } = batched(60_000);
  const scopes = [user(undefined, 1000, 'carol')];
  store.failAdjustments = true;
  limiter.reconcile(await admitted(limiter.reserve(scopes, 500)), 100);
  const [s] = await limiter.peek(scopes);
  t.equal(errors.length, 1, 'the failure reached onError');
  t.match(String(errors[0]), /store down/);
  t.equal(s.result.tokens?.remaining, 500, 'a lost refund leaves the estimate charged (the safe side)');
  store.failAdjustments = false;
  limiter.reconcile(await admitted(limiter.reserve(scopes, 100)), 0);
  const [after] = await limiter.peek(scopes);
  t.equal(after.result.tokens?.remaining, 500, 'later batches are sent again');
});

t.test('Redis: adjustments of concurrent requests cost one round trip per scope; one stretch is one write', async (t) => {
  const redis = await startRedis(t);
  const registry = new Registry();
  const store = new RedisStore({ url: redis.url, keyPrefix: 'batch:', failMode: 'open', timeoutMs: 2000, log: silentLogger, metrics: createMetricsFactory(registry) });
  t.teardown(() => store.close());
  t.ok(await store.ready(5000), 'connects');
  // An hour's window: Redis's own clock drips back ~0.03 tokens a ms, not ~2 as in a minute's.
  const limiter = new Limiter(store, { windowMs: 3_600_000, batching: { delayMs: 20, onError: (err) => t.fail(String(err)) } });
  const scopes = [user(1000, 100_000, 'dave'), global(10_000, 1_000_000)];
  const runs = async (): Promise<number> => Number(/gateway_store_redis_duration_seconds_count\{script="rate-limit-gcra",result="ok"\} (\d+)/.exec(await registry.metrics())?.[1]);
  // The script's first run on a fresh Redis is NOSCRIPT, then EVAL: not part of what is measured.
  await limiter.reserve([user(1, undefined, 'warm-up')], 0);
  const runsBefore = await runs();

  // Redis counts its socket reads; asking costs a few reads of its own, measured first.
  const reads = async (): Promise<number> => Number(/total_reads_processed:(\d+)/.exec(await redis.command('INFO', 'stats'))?.[1]);
  const asking = -((await reads()) - (await reads()));
  const before = await reads();
  const held = await Promise.all(Array.from({ length: 20 }, () => admitted(limiter.reserve(scopes, 500))));
  const scriptReads = (await reads()) - before - asking;
  // 40 scripts (20 requests × 2 scopes) issued in one synchronous stretch: one write.
  t.ok(scriptReads >= 1 && scriptReads <= 2, `40 scripts reached Redis in ${scriptReads} read(s)`);

  for (const r of held) limiter.reconcile(r, 200);
  await sleep(80);
  t.equal((await runs()) - runsBefore, 42, '40 reserves, then one adjustment per scope for all 20 reconciles');
  const [u, g] = await limiter.peek(scopes);
  // What was used, within what dripped back since (a lost refund would be 300 a request).
  const near = (got: number | undefined, used: number, limit: number): boolean => got !== undefined && got >= limit - used && got <= limit - used + 50;
  t.ok(near(u.result.tokens?.remaining, 20 * 200, 100_000), `the user charged what was used: ${u.result.tokens?.remaining} left`);
  t.ok(near(g.result.tokens?.remaining, 20 * 200, 1_000_000), `the gateway too: ${g.result.tokens?.remaining} left`);
});
