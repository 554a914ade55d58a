/**
 * The budget scripts on both stores, the same steps and the same answers: a store group's
 * budgets (a user's day and month) admit a request together or not at all, the refusal
 * names the first budget that refused, and holds expire. The Lua and the TypeScript
 * bodies must agree; a real redis-server runs the Lua.
 */
import t, { type Test } from 'tap';
import { MemoryStore, RedisStore, type Store } from '../../../core/index.js';
import { Registry } from '../../../core/deps/prom-client.js';
import { silentLogger } from '../../../core/logger.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { budgetScript, Mode, reserveScript } from '../../../filters/budget/script.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';

const GROUP = 'bg:u:alice';
const DAY = ['d:2026-12-01:spent', 'd:2026-12-01:held', 'd:2026-12-01:fired'];
const MONTH = ['m:2026-12:spent', 'm:2026-12:held', 'm:2026-12:fired'];
const BOTH = [DAY[0], DAY[1], MONTH[0], MONTH[1]];
const HELD_TTL = 60_000;

/** A Redis store on a fresh redis-server, keys under `prefix`. */
async function openRedis(t: Test, prefix = 'reserve-test:'): Promise<{ store: RedisStore; redis: TestRedis }> {
  const redis = await startRedis(t);
  const store = new RedisStore({ url: redis.url, keyPrefix: prefix, failMode: 'closed', timeoutMs: 2000, log: silentLogger, metrics: createMetricsFactory(new Registry()) });
  t.teardown(() => store.close());
  t.ok(await store.ready(5000), 'redis store ready');
  return { store, redis };
}

/** The same steps on either store. */
function steps(store: Store) {
  return {
    reserve: async (amount: number, limits: number[], keys = BOTH) => store.run(reserveScript, GROUP, keys, [amount, HELD_TTL, ...limits]),
    peek: async (keys: string[]) => store.run(budgetScript, GROUP, keys, [Mode.Peek]),
    commit: async (keys: string[], actual: number, release: number) => store.run(budgetScript, GROUP, keys, [Mode.Commit, actual, release, 86_400_000, HELD_TTL]),
  };
}

const stores: Array<[string, (t: Test) => Promise<Store>]> = [
  ['memory', async () => new MemoryStore()],
  ['redis', async (t) => (await openRedis(t)).store],
];

for (const [name, open] of stores) {
  t.test(`${name}: a group's budgets admit together or not at all`, async (t) => {
    const { reserve, peek, commit } = steps(await open(t));
    // The day allows 100, the month 150.
    t.same(await reserve(60, [100, 150]), { refused: 0, spent: 0, held: 0 }, 'admitted by both');
    t.match(await peek(DAY), { spent: 0, held: 60 }, 'the day holds the estimate');
    t.match(await peek(MONTH), { spent: 0, held: 60 }, 'and so does the month');

    t.same(await reserve(50, [100, 150]), { refused: 1, spent: 0, held: 60 }, 'the day refuses: 60 + 50 > 100');
    t.match(await peek(MONTH), { held: 60 }, 'the month, which had room, holds nothing more');

    await commit(MONTH, 80, 0); // other requests' spend this month, not this day
    t.same(await reserve(30, [100, 150]), { refused: 2, spent: 80, held: 60 }, 'the month refuses: 80 + 60 + 30 > 150');
    t.match(await peek(DAY), { held: 60 }, 'the day, which had room, holds nothing more');

    t.same(await reserve(10, [100, 150]), { refused: 0, spent: 0, held: 0 }, 'a request that fits both');
    t.match(await peek(DAY), { spent: 0, held: 70 });
    t.match(await peek(MONTH), { spent: 80, held: 70 });

    await commit(DAY, 55, 60);
    await commit(MONTH, 55, 60);
    t.match(await peek(DAY), { spent: 55, held: 10 }, 'a settlement releases its estimate and adds the real cost');
    t.match(await peek(MONTH), { spent: 135, held: 10 });
  });

  t.test(`${name}: edges`, async (t) => {
    const { reserve, peek } = steps(await open(t));
    const one = [DAY[0], DAY[1]];
    t.same(await reserve(100, [100], one), { refused: 0, spent: 0, held: 0 }, 'exactly the limit fits');
    t.same(await reserve(1, [100], one), { refused: 1, spent: 0, held: 100 }, 'one nano more does not');
    t.same(await reserve(0, [0], MONTH.slice(0, 2)), { refused: 1, spent: 0, held: 0 }, 'a zero budget refuses even an unpriced request');
    t.same(await reserve(0, [100], one), { refused: 0, spent: 0, held: 0 }, 'holds up to the limit still admit an unpriced request: it adds nothing');
    t.same(await reserve(0, [1000, 1000]), { refused: 0, spent: 0, held: 0 }, 'an estimate of 0 is admitted where there is room');
    t.match(await peek(MONTH), { held: 0 }, 'and holds nothing');
  });
}

t.test('memory: holds expire after their TTL, so a lost settlement frees its budget', async (t) => {
  let now = 1_764_547_200_000;
  const store = new MemoryStore({ clock: () => now });
  const { reserve } = steps(store);
  t.same(await reserve(100, [100, 100]), { refused: 0, spent: 0, held: 0 });
  t.match(await reserve(1, [100, 100]), { refused: 1 });
  now += HELD_TTL;
  t.same(await reserve(100, [100, 100]), { refused: 0, spent: 0, held: 0 }, 'both holds gone after the TTL');
});

t.test('redis: holds carry the TTL', async (t) => {
  const { store, redis } = await openRedis(t, 'ttl:');
  await steps(store).reserve(5, [100, 100]);
  for (const key of [DAY[1], MONTH[1]]) {
    const ttl = Number(/:(\d+)/.exec(await redis.command('PTTL', `ttl:{${GROUP}}:${key}`))?.[1]);
    t.ok(ttl > HELD_TTL - 5000 && ttl <= HELD_TTL, `${key} expires in ${ttl} ms`);
  }
});
