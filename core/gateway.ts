/**
 * The runtime: owns what outlives a config generation (metrics registry, shared state,
 * upstream pools, the listener) and the current pipeline, swapped atomically on reload.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { ConfigError, type ConfigIssue } from './config/issues.js';
import { defaultConfigPath, parseConfig, readConfigFile, type LoadedConfig } from './config/load.js';
import type { ServerConfig } from './config/types.js';
import type { ConfigWatcher } from './config/watch.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { BodyBudget } from './body-budget.js';
import { createHandler } from './handler.js';
import { listen, type Listener } from './listener.js';
import { listenUrls, reachableUrl } from './listen-urls.js';
import { poolClass } from './pool.js';
import { createLogger, redacted, redactInLogs, type Logger } from './logger.js';
import { configSecrets } from './config/secrets.js';
import { createOps } from './ops.js';
import { buildPipeline, type Pipeline } from './pipeline.js';
import { pluginTimeLimit, type PluginCatalog } from './plugins.js';
import { SharedStore } from './shared-store.js';
import type { PluginEnv, Provider, SharedState, UpstreamOptions } from './types.js';
import { GATEWAY_VERSION } from './version.js';
import { localWriters, type SingleWriters } from './cluster/single-writer.js';
import { connectWorker, type WorkerLink } from './cluster/worker.js';

export interface GatewayOptions {
  /** Config file; default `AI_GATEWAY_CONFIG`, then the embedded `configs/config.yaml`. */
  configPath?: string;
  /**
   * That file, already loaded by the caller with the same `env` (the CLI reads it to choose
   * between one process and a cluster), so start-up does not parse it twice. Reloads read the file.
   */
  loaded?: LoadedConfig;
  catalog: PluginCatalog;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Overrides `AI_GATEWAY_PORT` and `server.port` (tests use 0). */
  port?: number;
  host?: string;
  /** Watch the config file and reload on change (default true). */
  watch?: boolean;
  /** Quiet time after the last file event before the config is read (default 40 ms). */
  watchSettleMs?: number;
  /**
   * Run as a `node:cluster` worker of `server.workers`: single writers and `/metrics` go
   * through the primary. `workerHeader` adds `x-gateway-worker: <id>` to every response
   * (a debugging aid, off by default).
   */
  clusterWorker?: { workerHeader?: boolean };
}

export type ReloadResult = { ok: true; changed: boolean; generation: number } | { ok: false; error: ConfigError };

export function resolveConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  return explicit ?? (env.AI_GATEWAY_CONFIG || defaultConfigPath);
}

/**
 * `AI_GATEWAY_PORT` as a port, or undefined when it is unset or empty (as `${AI_GATEWAY_PORT:-8090}`
 * in a config treats it): `server.port` applies. Spaces around the number are ignored. Any
 * other value is refused: a blank one, which that `${…}` would hand the schema as port 0 (a
 * random port), and one Node would read as NaN or reject without naming the variable.
 */
export function envPort(env: NodeJS.ProcessEnv): number | undefined {
  const value = env.AI_GATEWAY_PORT;
  if (value === undefined || value === '') return undefined;
  const port = value.trim();
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw new Error(`AI_GATEWAY_PORT must be a port number from 0 to 65535 (or empty for server.port), not ${JSON.stringify(value)}`);
  return Number(port);
}

/** The server section with certificate paths resolved against the config file and checked readable. */
export function listenerConfig(loaded: LoadedConfig): ServerConfig {
  const server = loaded.config.server;
  if (!server.tls) return server;
  const tls = { cert_file: path.resolve(loaded.dir, server.tls.cert_file), key_file: path.resolve(loaded.dir, server.tls.key_file) };
  const issues: ConfigIssue[] = [];
  for (const key of ['cert_file', 'key_file'] as const) {
    try {
      accessSync(tls[key], constants.R_OK);
    } catch (err) {
      issues.push(loaded.source.issue(['server', 'tls', key], `cannot read ${tls[key]}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`));
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { ...server, tls };
}

/** Keys the listener reads once at start; a reload cannot change them. */
const RESTART_ONLY = ['workers', 'host', 'port', 'tls', 'http2', 'max_header_bytes', 'max_connections', 'idle_timeout_ms', 'keep_alive_timeout_ms', 'request_timeout_ms', 'admin'] as const;

function warnRestartOnly(log: Logger, before: ServerConfig, after: ServerConfig): void {
  const changed = RESTART_ONLY.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  if (changed.length > 0) log.warn('these server keys apply at the next restart, not on reload', { keys: changed.map((k) => `server.${k}`) });
}

function urlOf(listener: Listener): string {
  return reachableUrl(listener.scheme, listener.address());
}

/** How long requests cut at the drain timeout get to hear it before the upstream pools go. */
const CUT_SETTLE_MS = 1000;

/** Connections per upstream origin (per process) unless a provider asks otherwise. */
export const UPSTREAM_CONNECTIONS = 1024;

export class Gateway {
  readonly metrics = new GatewayMetrics(() => this.bodyBudget.held);
  private readonly overloadedByBodies = this.metrics.overloadRefusals.labels('body_bytes');
  /** Outlives pipelines: a reload changes its limit, not what requests in flight hold. */
  private readonly bodyBudget = new BodyBudget(Number.MAX_SAFE_INTEGER, () => this.overloadedByBodies.inc());
  readonly log: Logger;
  readonly configPath: string;
  readonly startedAt = new Date();
  private readonly shared = new SharedStore();
  /** Set when running as a cluster worker. */
  readonly worker: WorkerLink | undefined;
  private readonly writers: SingleWriters;
  /** Every upstream pool not yet closed, for shutdown to close (or cut) what is left. */
  private readonly pools = new Set<Dispatcher>();
  private pipeline!: Pipeline;
  private generation = 0;
  private listener: Listener | undefined;
  /** The operational listener (`server.admin`), when configured. */
  private adminListener: Listener | undefined;
  private isDraining = false;
  /** The drain timed out: the gateway is cutting what is left. */
  private isCutting = false;
  private reloading: Promise<ReloadResult> | undefined;
  private watcher: ConfigWatcher | undefined;
  private closing: Promise<void> | undefined;
  /** Pipelines swapped out by a reload that still serve requests they started. */
  private readonly retiring = new Set<Promise<void>>();

  private constructor(private readonly opts: GatewayOptions) {
    this.log = opts.log ?? createLogger();
    this.configPath = resolveConfigPath(opts.configPath, opts.env ?? process.env);
    this.worker = opts.clusterWorker ? connectWorker(this.metrics.registry, this.log) : undefined;
    this.writers = this.worker?.writers ?? localWriters(this.log.child({ component: 'single-writers' }));
  }

  /** Load the config, build the first pipeline and listen. Throws ConfigError on a bad config, an Error on a bad `AI_GATEWAY_PORT`. */
  static async start(opts: GatewayOptions): Promise<Gateway> {
    const env = opts.env ?? process.env;
    // Checked before anything is built: a bad value refuses the start.
    const portOverride = opts.port ?? envPort(env);
    const gw = new Gateway(opts);
    const loaded = opts.loaded ?? gw.load();
    const server = listenerConfig(loaded);
    gw.pipeline = await gw.build(loaded);
    gw.bodyBudget.limit = loaded.config.server.max_inflight_body_bytes;
    gw.metrics.configLoads.inc({ result: 'success' });
    gw.metrics.setConfigHash(loaded.hash);
    const port = portOverride ?? server.port;
    const worker = gw.worker;
    const ops = createOps({ current: () => gw.pipeline, metrics: gw.metrics, version: GATEWAY_VERSION, startedAt: gw.startedAt, requestTimeoutMs: server.request_timeout_ms, draining: () => gw.isDraining, scrape: worker && (() => worker.scrape()), log: gw.log, bodyBudget: gw.bodyBudget });
    const served = createHandler({
      current: () => gw.pipeline,
      metrics: gw.metrics,
      log: gw.log,
      requestTimeoutMs: server.request_timeout_ms,
      operational: server.admin ? ops.except(server.admin.endpoints) : ops.operational,
      providerHealth: ops.providerHealth,
      cutting: () => gw.isCutting,
      bodyBudget: gw.bodyBudget,
      usage: async (ctx, route) => {
        const parts: Record<string, unknown> = { user: ctx.identity?.user ?? null, workspace: ctx.identity?.workspace ?? null, project: ctx.identity?.project ?? null };
        for (const slot of route.chain.slots) if (slot.filter.usage) Object.assign(parts, await slot.filter.usage(ctx));
        return parts;
      },
    });
    const workerId = String(worker?.id);
    const handler: typeof served = opts.clusterWorker?.workerHeader ? (req, res) => (res.setHeader('x-gateway-worker', workerId), served(req, res)) : served;
    try {
      gw.listener = await listen(server, { host: opts.host ?? server.host, port }, handler, gw.log, () => gw.metrics.connectionsRefused.inc());
      // Plain HTTP only: it binds to a private address and has no workspace clients. Not
      // capped: scrapes and health checks must get through while the main port is full.
      if (server.admin) gw.adminListener = await listen({ ...server, tls: undefined, max_connections: undefined }, server.admin, ops.adminHandler(server.admin.endpoints), gw.log);
    } catch (err) {
      gw.listener?.destroy();
      await gw.listener?.close();
      await gw.pipeline.retire(); // close what the pipeline opened; the caller gets the listen error
      throw err;
    }
    if (opts.watch !== false) {
      try {
        // Imported only now (chokidar with it): the listener already takes requests meanwhile.
        const { watchConfig } = await import('./config/watch.js');
        gw.watcher = await watchConfig({ file: gw.configPath, initialHash: loaded.hash, settleMs: opts.watchSettleMs, log: gw.log, onChange: () => void gw.reload() });
      } catch (err) {
        // Reload by SIGHUP still works; a missing watch must not keep the gateway down.
        gw.log.warn('cannot watch the config file; reload with SIGHUP', { file: gw.configPath, err });
      }
    }
    const urls = listenUrls(gw.listener.scheme, gw.listener.address());
    worker?.ready(urls, gw.adminUrl);
    // The file's absolute path: `--config` may have been relative to a directory the reader cannot see.
    gw.log.info('gateway listening', { ...urls, ...(gw.adminListener ? { admin_url: gw.adminUrl } : {}), config: path.resolve(gw.configPath), hash: loaded.hash.slice(0, 16), version: GATEWAY_VERSION, watch: gw.watcher !== undefined });
    return gw;
  }

  get url(): string {
    return urlOf(this.listener!);
  }

  /** The operational listener's URL, when `server.admin` is set. */
  get adminUrl(): string | undefined {
    return this.adminListener ? urlOf(this.adminListener) : undefined;
  }

  get port(): number {
    return this.listener!.address().port;
  }

  get current(): Pipeline {
    return this.pipeline;
  }

  /**
   * Re-read the config; on success swap in a new pipeline, on failure keep serving the old
   * one. Content that did not change is not rebuilt, unless `force` (SIGHUP: what the config
   * refers to — a price book, a schema — may have changed without it).
   */
  reload({ force = false }: { force?: boolean } = {}): Promise<ReloadResult> {
    // Reloads are serialized: a second one waits for the first, then reads the file again.
    const run = async (): Promise<ReloadResult> => {
      // A pipeline built while draining would never be retired; keep the one shutting down.
      if (this.isDraining) return { ok: true, changed: false, generation: this.pipeline.generation };
      let loaded: LoadedConfig;
      try {
        loaded = this.load();
        if (loaded.hash === this.pipeline.hash && !force) return { ok: true, changed: false, generation: this.pipeline.generation };
        const next = await this.build(loaded);
        // A shutdown began during the build (it does not wait for one): keep the pipeline it drains.
        if (this.isDraining) {
          this.log.info('reload abandoned: the gateway is shutting down', { generation: next.generation });
          await next.retire();
          await this.release(next.generation);
          return { ok: true, changed: false, generation: this.pipeline.generation };
        }
        const old = this.pipeline;
        this.pipeline = next;
        this.bodyBudget.limit = loaded.config.server.max_inflight_body_bytes;
        warnRestartOnly(this.log, old.loaded.config.server, next.loaded.config.server);
        this.metrics.configLoads.inc({ result: 'success' });
        this.metrics.setConfigHash(loaded.hash);
        this.log.info('config reloaded', { hash: loaded.hash.slice(0, 16), generation: next.generation });
        this.retire(old);
        return { ok: true, changed: true, generation: next.generation };
      } catch (err) {
        const error = err instanceof ConfigError ? err : new ConfigError([{ file: this.configPath, path: '', message: (err as Error).message }]);
        this.metrics.configLoads.inc({ result: 'failure' });
        // Redacted here too: an embedder's own Logger does not know the config's secrets.
        this.log.error('config reload failed; still serving the previous config', { issues: error.issues.map((issue) => ({ ...issue, message: redacted(issue.message) })) });
        return { ok: false, error };
      }
    };
    const next = (this.reloading ?? Promise.resolve()).then(run, run);
    this.reloading = next;
    return next;
  }

  /**
   * Stop accepting, let in-flight requests and streams finish (up to `server.drain_timeout_ms`),
   * then close everything. Idle keep-alive connections close at once, HTTP/2 sessions get
   * GOAWAY. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.isDraining = true;
    await this.watcher?.close().catch(() => {});
    // A reload under way is not waited for: a plugin's create() may take any time, and a
    // pipeline it finishes now is retired by the reload itself.
    const timeout = this.pipeline.loaded.config.server.drain_timeout_ms;
    const started = performance.now();
    this.log.info('draining', { in_flight: this.pipeline.active, connections: this.listener?.connections ?? 0, timeout_ms: timeout });
    const closing = Promise.all([this.listener?.close(), this.adminListener?.close()]);
    const drained = Promise.all([this.pipeline.retire(), ...this.retiring]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([Promise.all([closing, drained]).then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeout)))]);
    clearTimeout(timer);
    if (timedOut) {
      this.log.warn('drain timeout reached; closing the remaining connections', { in_flight: this.pipeline.active, connections: this.listener?.connections ?? 0 });
      this.isCutting = true;
    }
    this.listener?.destroy();
    this.adminListener?.destroy();
    // The requests hear their connections close and cancel their upstream calls, each
    // ending as cut by the shutdown; a pool destroyed first would fail their bodies as the
    // upstream's fault. Bounded: a call nothing cancels is cut with its pool below.
    if (timedOut) await Promise.race([drained, new Promise((r) => setTimeout(r, CUT_SETTLE_MS))]);
    this.log.info('drained', { ms: Math.round(performance.now() - started) });
    // After a timeout, a call nothing cancelled (a plugin's own, say) would hold close() forever.
    for (const pool of this.pools) await (timedOut ? pool.destroy() : pool.close()).catch(() => {});
    await this.shared.closeAll();
  }

  private retire(old: Pipeline): void {
    const done = old
      .retire()
      .then(() => this.release(old.generation))
      .finally(() => this.retiring.delete(done));
    this.retiring.add(done);
  }

  private load(): LoadedConfig {
    const content = readConfigFile(this.configPath);
    // Whether it loads or not: a failure the watcher tried again would be counted twice.
    this.watcher?.attempted(content.hash);
    return parseConfig(content.text, content.file, this.opts.env ?? process.env, content.hash);
  }

  private async build(loaded: LoadedConfig): Promise<Pipeline> {
    redactInLogs(configSecrets(loaded.config));
    const generation = ++this.generation;
    const shared = this.shared.forGeneration(generation);
    try {
      return await buildPipeline({
        loaded,
        catalog: this.opts.catalog,
        generation,
        log: this.log,
        timeLimitMs: pluginTimeLimit(this.opts.env ?? process.env),
        envFor: (scope, providers) => this.pluginEnv(scope, loaded, providers, shared),
      });
    } catch (err) {
      await this.release(generation); // what only this generation asked for (a store it made)
      throw err;
    }
  }

  /** A generation is gone: close the shared objects it alone held (see SharedOptions). */
  private release(generation: number): Promise<void> {
    return this.shared.release(generation, (key, err) => this.log.warn('closing a shared object no config uses any more failed', { key, err }));
  }

  private pluginEnv(scope: string, loaded: LoadedConfig, providers: ReadonlyMap<string, Provider>, shared: SharedState): PluginEnv {
    return {
      log: this.log.child({ plugin: scope }),
      metrics: this.metrics.factory,
      shared,
      upstream: (origin, options) => this.upstream(origin, options ?? {}, shared),
      configDir: loaded.dir,
      gatewayVersion: GATEWAY_VERSION,
      providers,
      config: loaded.config,
      singleWriters: this.writers,
    };
  }

  /**
   * The pool for `origin` with these settings, shared by every generation that asks; once no
   * live one does (a reload changed the provider's URL or timeouts), it is closed after the
   * last generation that used it has drained, rather than kept for the life of the process.
   */
  private upstream(origin: string, options: UpstreamOptions, shared: SharedState): Dispatcher {
    const key = `${origin}|${options.connectTimeoutMs}|${options.headersTimeoutMs}|${options.bodyTimeoutMs}|${options.connections}`;
    return shared.get(`core.upstream:${key}`, () => this.openPool(origin, options), { closeWhenUnused: true }).pool;
  }

  private openPool(origin: string, options: UpstreamOptions): { pool: Dispatcher; close(): Promise<void> } {
    const Pool = poolClass();
    const pool = new Pool(origin, {
      // A streamed answer holds its connection for seconds to minutes: at 128 the 129th
      // concurrent stream to one provider waited for another to end. Envoy's default
      // circuit breaker allows 1,024 connections per upstream cluster too.
      connections: options.connections ?? UPSTREAM_CONNECTIONS,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      headersTimeout: options.headersTimeoutMs ?? 300_000,
      bodyTimeout: options.bodyTimeoutMs ?? 300_000,
      keepAliveTimeout: 30_000,
    });
    this.pools.add(pool);
    return {
      pool,
      // Not awaited: a call nothing ended would hold the retirement, and with it shutdown's
      // drain. The pool stays in `pools` until closed, so shutdown still ends it.
      close: async () => {
        void pool
          .close()
          .catch(() => {})
          .finally(() => this.pools.delete(pool));
      },
    };
  }
}
