/**
 * The runtime's store, chosen by the top-level `store:` section. It is kept in the
 * runtime's shared state under its settings, so every pipeline generation (and every
 * plugin that asks) gets the same instance and counters survive reloads.
 */
import type { PluginEnv } from '../types.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import { readRedisTls, type RedisTls } from './redis-tls.js';
import type { Store, StoreConfig } from './types.js';

export { DelayedBatch, delayedBatchFor, type DelayedBatchOptions } from './delayed-batch.js';
export { MemoryStore, type MemoryStoreOptions } from './memory.js';
export { RedisStore, type RedisStoreOptions } from './redis.js';
export { onLateResult, STORE_READY_MS, StoreUnavailableError, type AtomicScript, type Cells, type FailMode, type Store, type StoreConfig } from './types.js';

const DEFAULT: StoreConfig = { type: 'memory' };

/**
 * The store for this runtime, created on first use.
 * @example
 * const store = storeFor(env);
 * const n = await store.run(incr, 'user:alice', ['hits'], [1]);
 */
export function storeFor(env: PluginEnv): Store {
  // A config check connects to nothing: a Redis store is not reached, so not checked either.
  const config = env.validating ? DEFAULT : ((env.config.store as StoreConfig | undefined) ?? DEFAULT);
  const tls = config.type === 'redis' ? redisTls(config, env.configDir) : undefined;
  // Keyed by the settings (and the TLS files' contents): editing them makes a new store, and
  // the old one is closed once the pipelines that used it are gone; unchanged, a reload
  // reuses it, counters and connection.
  const key = `core.store:${config.type}:${JSON.stringify(config.type === 'redis' ? config.redis : config.memory ?? {})}${tls ? `:${tls.digest}` : ''}`;
  return env.shared.get(key, () => createStore(config, env, tls), { closeWhenUnused: true });
}

/** The store's TLS files, read now (the config load checked them; a file gone since fails the reload). */
function redisTls(config: StoreConfig, configDir: string): RedisTls | undefined {
  const r = config.redis;
  if (!r?.tls) return undefined;
  const read = readRedisTls(r.url, configDir, r.tls);
  if ('problems' in read) throw new Error(`store.redis.tls: ${read.problems.map((p) => p.message).join('; ')}`);
  return read.tls;
}

export function createStore(config: StoreConfig, env: Pick<PluginEnv, 'log' | 'metrics'>, tls?: RedisTls): Store {
  if (config.type === 'redis') {
    const r = config.redis ?? { url: 'redis://127.0.0.1:6379', key_prefix: 'aigw:', fail_mode: 'open', timeout_ms: 250 };
    return new RedisStore({
      url: r.url,
      cluster: r.cluster,
      sentinel: r.sentinel,
      tls: tls?.options,
      keyPrefix: r.key_prefix,
      failMode: r.fail_mode,
      timeoutMs: r.timeout_ms,
      log: env.log.child({ component: 'store', store: 'redis' }),
      metrics: env.metrics,
    });
  }
  return new MemoryStore({ maxGroups: config.memory?.max_groups });
}
