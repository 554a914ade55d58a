/**
 * A config checked as start-up would take it, for `ai-gateway validate`: the listener's
 * certificate files readable, every plugin imported and created, targets, resilience and
 * routes compiled. Nothing is opened on the way: no listener, no upstream connection (the
 * pools handed to plugins refuse to connect), no store or ledger connection, no audit or
 * ledger file (`env.validating`, single writers that write nothing). The pipeline built is
 * closed unused.
 */
import type { Dispatcher } from 'undici';
import { ConfigError, type ConfigIssue } from './config/issues.js';
import type { LoadedConfig } from './config/load.js';
import type { SingleWriters } from './cluster/single-writer.js';
import { Registry } from './deps/prom-client.js';
import { listenerConfig } from './gateway.js';
import { createLogger } from './logger.js';
import { createMetricsFactory } from './metrics-factory.js';
import { buildPipeline } from './pipeline.js';
import type { PluginCatalog } from './plugins.js';
import { poolClass } from './pool.js';
import { SharedStore } from './shared-store.js';
import type { PluginEnv, UpstreamOptions } from './types.js';
import { GATEWAY_VERSION } from './version.js';

/** What a plugin's `upstream()` pool says when asked to connect during a check. */
export const NO_CONNECTIONS = 'ai-gateway validate opens no connections';

/** Writers that take records and write them nowhere. */
const NO_WRITERS: SingleWriters = {
  remote: false,
  open: () => ({ write: () => {}, reconfigure: () => {}, flush: async () => {}, close: async () => {} }),
};

/** Check `loaded` as `Gateway.start` would; throws a ConfigError listing what start-up would refuse. */
export async function checkStartable(loaded: LoadedConfig, catalog: PluginCatalog, timeLimitMs: number): Promise<void> {
  const issues: ConfigIssue[] = [];
  try {
    listenerConfig(loaded);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
  }
  // What plugins log while created is not the check's output.
  const log = createLogger({ sink: () => {} });
  const metrics = createMetricsFactory(new Registry());
  const sharedStore = new SharedStore();
  const shared = sharedStore.forGeneration(0);
  const pools: Dispatcher[] = [];
  const upstream = (origin: string, options: UpstreamOptions = {}): Dispatcher => {
    const Pool = poolClass();
    // Built as the gateway builds its pools (a bad origin fails alike), but unable to connect.
    const pool = new Pool(origin, { connections: options.connections, connect: (_opts, done) => done(new Error(NO_CONNECTIONS), null) });
    pools.push(pool);
    return pool;
  };
  try {
    const pipeline = await buildPipeline({
      loaded,
      catalog,
      generation: 0,
      log,
      timeLimitMs,
      envFor: (scope, providers): PluginEnv => ({
        log: log.child({ plugin: scope }),
        metrics,
        shared,
        upstream,
        configDir: loaded.dir,
        gatewayVersion: GATEWAY_VERSION,
        providers,
        config: loaded.config,
        singleWriters: NO_WRITERS,
        validating: true,
      }),
    });
    await pipeline.retire();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
  } finally {
    for (const pool of pools) await pool.destroy().catch(() => {});
    await sharedStore.closeAll();
  }
  if (issues.length > 0) throw new ConfigError(issues);
}
