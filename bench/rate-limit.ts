/**
 * The rate limiter's cost per request, per store, against a baseline without it, in the
 * same run: `npx tsx bench/rate-limit.ts [requests-per-trial] [trials]`.
 *
 * - end to end: sequential requests through an in-process gateway (echo provider, a header
 *   identity filter) with no limiter, the memory store, and Redis (a redis-server started
 *   here on a free port); trials interleaved, medians reported;
 * - the limiter alone: reserve + reconcile per request, memory (synchronous) and Redis.
 */
import { Pool } from 'undici';
import { Registry } from '../core/deps/prom-client.js';
import { Gateway, MemoryStore, RedisStore } from '../core/index.js';
import { silentLogger } from '../core/logger.js';
import { createMetricsFactory } from '../core/metrics-factory.js';
import { builtinCatalog } from '../bin/catalog.js';
import { Limiter, type Scope } from '../filters/rate-limit/limiter.js';
import { writeConfig } from '../test/helpers/gateway.js';
import { startRedis } from '../test/helpers/redis.js';
import { IDENTITY_PLUGIN } from '../test/helpers/rate-limit.js';

const N = Number(process.argv[2] ?? 2000);
const TRIALS = Number(process.argv[3] ?? 5);
const teardowns: Array<() => unknown> = [];
const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const us = (ms: number): string => `${(ms * 1000).toFixed(1)} µs`;

function config(mode: 'baseline' | 'memory' | 'redis', redisUrl: string): string {
  const limits = { global: { requests_per_minute: 1e9, tokens_per_minute: 1e12 }, default: { requests_per_minute: 1e9, tokens_per_minute: 1e12 } };
  return JSON.stringify({
    server: { host: '127.0.0.1', port: 0 },
    providers: { echo: { models: ['echo-1'] } },
    filters: [{ name: 'identity', plugin: IDENTITY_PLUGIN }, ...(mode === 'baseline' ? [] : [{ name: 'rate-limit' }])],
    rate_limits: limits,
    store: mode === 'redis' ? { type: 'redis', redis: { url: redisUrl, key_prefix: 'bench:', timeout_ms: 1000 } } : { type: 'memory' },
  });
}

async function trial(pool: Pool, n: number): Promise<number> {
  const body = JSON.stringify({ model: 'echo-1', max_tokens: 64, messages: [{ role: 'user', content: 'Hello, gateway' }] });
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await pool.request({ method: 'POST', path: '/v1/echo/v1/messages', headers: { 'content-type': 'application/json', 'x-user': `user${i % 50}` }, body });
    await r.body.dump();
    if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
  }
  return (performance.now() - start) / n;
}

async function main(): Promise<void> {
  const redis = await startRedis(t);
  const modes = ['baseline', 'memory', 'redis'] as const;
  const gws = new Map<string, { gw: Gateway; pool: Pool }>();
  for (const mode of modes) {
    const { file } = writeConfig(config(mode, redis.url));
    const gw = await Gateway.start({ configPath: file, catalog: builtinCatalog, env: {}, log: silentLogger, port: 0, host: '127.0.0.1' });
    gws.set(mode, { gw, pool: new Pool(gw.url, { connections: 1 }) });
  }
  for (const { pool } of gws.values()) await trial(pool, 200); // warm up
  const times: Record<string, number[]> = { baseline: [], memory: [], redis: [] };
  for (let i = 0; i < TRIALS; i++) for (const mode of modes) times[mode].push(await trial(gws.get(mode)!.pool, N));

  console.log(`end to end, ${N} sequential requests x ${TRIALS} trials, median per request:`);
  const base = median(times.baseline);
  for (const mode of modes) {
    const m = median(times[mode]);
    console.log(`  ${mode.padEnd(8)} ${us(m).padStart(10)}${mode === 'baseline' ? '' : `   limiter cost ${us(m - base)}`}`);
  }

  const scopes: Scope[] = [
    { name: 'user', group: 'rl:u:bench', limits: { requests: 1e9, tokens: 1e12 } },
    { name: 'global', group: 'rl:global', limits: { requests: 1e9, tokens: 1e12 } },
  ];
  const redisStore = new RedisStore({ url: redis.url, keyPrefix: 'bench2:', failMode: 'open', timeoutMs: 1000, log: silentLogger, metrics: createMetricsFactory(new Registry()) });
  await redisStore.ready(5000);
  console.log('limiter alone (reserve + reconcile, user and global scopes), median per request:');
  for (const [name, store] of [['memory', new MemoryStore()], ['redis', redisStore]] as const) {
    const limiter = new Limiter(store);
    const runs: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const start = performance.now();
      for (let j = 0; j < N; j++) {
        const d = await limiter.reserve(scopes, 100);
        if (d.allowed) await limiter.reconcile(d.reservation, 40);
      }
      runs.push((performance.now() - start) / N);
    }
    console.log(`  ${name.padEnd(8)} ${us(median(runs)).padStart(10)}`);
  }
  await redisStore.close();
  for (const { gw, pool } of gws.values()) {
    await pool.close();
    await gw.close();
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const fn of teardowns.reverse()) await fn();
  });
