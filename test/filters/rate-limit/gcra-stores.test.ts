/**
 * The rate limiter's script, its Lua on a real redis-server against its TypeScript on the
 * memory store: the same random run of reserves, adjustments and peeks, with limits that
 * change and dimensions that lose and regain their limit (a reload), must give the same
 * answers. On Redis a scope is one key holding all four numbers; what that layout keeps
 * is checked here too. The window is so long that the time between the two stores' runs
 * drips back nothing that shows.
 */
import t from 'tap';
import { MemoryStore, RedisStore, type Store } from '../../../core/index.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { silentLogger } from '../../../core/logger.js';
import { Registry } from '../../../core/deps/prom-client.js';
import { gcra, Mode, type GcraResult } from '../../../filters/rate-limit/gcra.js';
import { GCRA_KEYS } from '../../../filters/rate-limit/limiter.js';
import { startRedis } from '../../helpers/redis.js';

const WINDOW_MS = 1e15;

/** A small deterministic generator, so a failing run can be read again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** What both stores must agree on: the window is too long for reset and retry times to match to the millisecond. */
function answer(r: GcraResult) {
  return { allowed: r.allowed, denied: r.denied, requests: r.requests?.remaining, tokens: r.tokens?.remaining };
}

t.test('Lua on Redis and TypeScript in memory give the same answers', async (t) => {
  const redis = await startRedis(t);
  const shared: Store = new RedisStore({ url: redis.url, keyPrefix: 'eq:', failMode: 'open', timeoutMs: 2000, log: silentLogger, metrics: createMetricsFactory(new Registry()) });
  t.teardown(() => shared.close());
  t.ok(await shared.ready(5000), 'connects');
  const memory = new MemoryStore();
  const next = random(12);
  const pick = <T>(options: readonly T[]): T => options[Math.floor(next() * options.length)];
  const groups = ['rl:u:a', 'rl:u:b', 'rl:global'];
  let differences = 0;
  for (let i = 0; i < 600; i++) {
    const group = pick(groups);
    const mode = pick([Mode.Reserve, Mode.Reserve, Mode.Reserve, Mode.Adjust, Mode.Peek]);
    const requestLimit = pick([-1, 0, 5, 20, 20, 20]);
    const tokenLimit = pick([-1, 1000, 1000, 1000, 5000]);
    const requestCost = mode === Mode.Reserve ? 1 : mode === Mode.Adjust ? pick([0, -1, 1]) : 0;
    const tokenCost = mode === Mode.Reserve ? Math.floor(next() * 400) : mode === Mode.Adjust ? Math.floor(next() * 600) - 300 : 0;
    const args = [mode, WINDOW_MS, requestLimit, tokenLimit, requestCost, tokenCost];
    const inMemory = answer(memory.run(gcra, group, GCRA_KEYS, args));
    const onRedis = answer(await shared.run(gcra, group, GCRA_KEYS, args));
    if (JSON.stringify(onRedis) === JSON.stringify(inMemory)) continue;
    // The first few differences in full; the count says how many.
    if (++differences <= 5) t.same(onRedis, inMemory, `step ${i}: ${group} ${args.join(' ')}`);
  }
  t.equal(differences, 0, '600 steps, the same answers');
});

t.test('on Redis a scope is one key; a dimension without a limit keeps what it spent', async (t) => {
  const redis = await startRedis(t);
  const shared: Store = new RedisStore({ url: redis.url, keyPrefix: 'one:', failMode: 'open', timeoutMs: 2000, log: silentLogger, metrics: createMetricsFactory(new Registry()) });
  t.teardown(() => shared.close());
  t.ok(await shared.ready(5000), 'connects');
  const run = (mode: number, [requestLimit, tokenLimit]: [number, number], [requests, tokens]: [number, number]) =>
    shared.run(gcra, 'rl:u:k', GCRA_KEYS, [mode, 60_000, requestLimit, tokenLimit, requests, tokens]);
  const key = 'one:{rl:u:k}:bucket';

  const reservedAt = performance.now();
  await run(Mode.Reserve, [10, 1000], [1, 300]);
  t.equal(await redis.command('KEYS', 'one:*'), `*1\r\n$${key.length}\r\n${key}\r\n`, 'both dimensions in one key');
  t.match(await redis.command('GET', key), /^\$\d+\r\n1\.\d{6} \d+\.\d{3} 300\.\d{6} \d+\.\d{3}\r\n$/, 'requests and tokens, each with its time');

  const untracked = await run(Mode.Reserve, [10, -1], [1, 0]);
  t.equal(untracked.tokens, undefined, 'tokens without a limit: no state reported');
  t.equal(untracked.requests?.remaining, 8);
  const back = await run(Mode.Peek, [10, 1000], [0, 0]);
  // 1000 a minute drain one token each 60 ms: a loaded host may take that long between the calls.
  const drainedSince = Math.ceil(((performance.now() - reservedAt) * 1000) / 60_000);
  t.ok(back.tokens && back.tokens.remaining >= 699 && back.tokens.remaining <= 700 + drainedSince, `the limit back: the 300 spent are still held, less what drained since (${back.tokens?.remaining} left)`);

  // 300 of 1000 tokens a minute drain in 18 s, the key's life since the first reserve; the
  // requests drain sooner. Runs that skip the tokens must not cut that short.
  await run(Mode.Adjust, [10, -1], [-2, 0]);
  const pttl = Number((await redis.command('PTTL', key)).slice(1));
  t.ok(pttl > 15_000 && pttl <= 18_001, `requests drained, the key is kept as long as the tokens it carries need (${pttl} ms)`);
  const drained = await run(Mode.Adjust, [10, 1000], [0, -300]);
  t.same([drained.requests?.remaining, drained.tokens?.remaining], [10, 1000], 'all handed back');
  t.equal(await redis.command('EXISTS', key), ':0\r\n', 'an empty bucket is deleted, not kept');

  await redis.command('SET', key, 'garbage');
  const fresh = await run(Mode.Reserve, [10, 1000], [1, 100]);
  t.ok(fresh.allowed, 'a value in another format reads as an empty bucket');
  t.equal(fresh.tokens?.remaining, 900);
});
