/**
 * The shared store for several replicas: Redis through ioredis, one Redis or a Redis Cluster
 * (`store.redis.cluster`). Every operation is one Lua script (EVALSHA; on NOSCRIPT, EVAL,
 * which also reloads it), so check-and-update is atomic inside Redis on Redis's own clock.
 * Keys are hash-tagged per group so a group's keys share one Redis Cluster slot.
 *
 * Scripts are loaded (SCRIPT LOAD) ahead of their first EVALSHA, in the same write, and again
 * on every reconnect (on a cluster, into every node as it joins), so a fresh or restarted
 * Redis answers EVALSHA at once: a NOSCRIPT then means the cache was lost under a live
 * connection (SCRIPT FLUSH, a failover behind a proxy), which is what
 * `gateway_store_redis_errors_total{reason="noscript"}` counts.
 *
 * Commands are never queued while disconnected: they fail at once (or after `timeout_ms`)
 * and the consumer applies the fail mode, while ioredis reconnects in the background.
 *
 * Scripts run in one synchronous stretch (a request's scopes, a batch of adjustments) go to
 * a single Redis in one write: the socket is corked at the first and uncorked on the next tick.
 * ioredis writes each command at once, and on these machines a write costs more CPU than
 * the command (ioredis's own auto-pipelining batches too, but one pipeline at a time and a
 * `setImmediate` later: slower here, by CPU and by latency).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Counter, Gauge } from 'prom-client';
import type { Logger } from '../logger.js';
import type { MetricsFactory } from '../metrics-factory.js';
import type { FastHistogram } from '../metrics/fast-histogram.js';
import { connectTimeoutFor, createRedisClient, hostAndPort, isCluster, isReadOnlyError, nodeKey, reconnectWhenEnded, scriptHosts, sentinelConnectionOptions, type RedisClient, type RedisConnection, type RedisSentinel } from './redis-client.js';
import { bytesReadBy, ClusterSilence, probeNode, probeRedis, SilenceCheck, type ProbeResult } from './redis-liveness.js';
import type { RedisTlsOptions } from './redis-tls.js';
import { UnreachableNodes } from './redis-unreachable.js';
import { followSwitchMaster, type SwitchedPrimary, type SwitchMasterFollower } from './redis-switch-master.js';
import { preEncodedCommand, ScriptCalls, textReply, type PreEncoded, type ScriptCommand } from './redis-script.js';
import { loadIoredis } from '../deps/ioredis.js';
import { STORE_READY_MS, StoreUnavailableError, type AtomicScript, type FailMode, type Store } from './types.js';

export interface RedisStoreOptions {
  url: string;
  /** Redis Cluster: `url` is a seed node; the slot map is learned from it. */
  cluster?: boolean;
  /** With a `rediss://` url: the CA to trust instead of Node's, a client certificate (see redis-tls.ts). */
  tls?: RedisTlsOptions;
  /** Redis Sentinel: the sentinels name the primary; `url` gives its credentials and database. */
  sentinel?: RedisSentinel;
  keyPrefix: string;
  failMode: FailMode;
  timeoutMs: number;
  log: Logger;
  metrics: MetricsFactory;
}

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class RedisStore implements Store {
  readonly type = 'redis';
  readonly failMode: FailMode;
  private readonly client: RedisClient;
  /** The single Redis's connection, corked per tick; a cluster has one per node, left uncorked. */
  private readonly single: Redis | undefined;
  /** The single Redis's watch for a connection that went silent (redis-liveness.ts); none on a cluster. */
  private readonly silence: SilenceCheck | undefined;
  /** Replies (and failures) read off the single Redis's connection: what {@link silence} watches. */
  private replies = 0;
  /** A cluster's watch, node by node. */
  private readonly clusterSilence: ClusterSilence | undefined;
  /** A cluster's masters that cannot be reached: calls on their slots fail at once. */
  private readonly unreachable: UnreachableNodes | undefined;
  /** Through Sentinel: the store's own `+switch-master` subscriptions (redis-switch-master.ts). */
  private readonly switchMaster: SwitchMasterFollower | undefined;
  private readonly url: string;
  /** EVALSHA commands written by {@link ScriptCalls}: one class for every script. */
  private readonly Command: PreEncoded;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  /** Each script's EVALSHA commands, by its Lua. */
  private readonly calls = new Map<string, ScriptCalls>();
  private readonly fullKey = (group: string, key: string): string => `${this.prefix}{${group}}:${key}`;
  private readonly latency: FastHistogram<'script' | 'result'>;
  private readonly errors: Counter<'reason'>;
  private readonly up: Gauge;
  private down = false;
  private closed = false;
  /**
   * Until then (`performance.now()`) the store is starting: neither connected yet nor past the
   * wait a pipeline build gives it, so not yet in use and silent in `gateway_store_redis_up`.
   * 0 once it has connected.
   */
  private startingUntil = performance.now() + STORE_READY_MS;
  /** A refused SCRIPT LOAD (a proxy without SCRIPT, say) is logged once; EVAL still works. */
  private preloadRefused = false;
  /** Cluster nodes (`host:port`) whose failure has been logged, until a client of theirs is ready again. */
  private readonly failedNodes = new Set<string>();
  private corked = false;
  private readonly uncork = (stream: Redis['stream']): void => {
    this.corked = false;
    stream.uncork();
  };

  constructor(opts: RedisStoreOptions) {
    this.failMode = opts.failMode;
    this.timeoutMs = opts.timeoutMs;
    this.prefix = opts.keyPrefix;
    this.log = opts.log;
    this.url = redactUrl(opts.url);
    this.latency = opts.metrics.fastHistogram({ name: 'gateway_store_redis_duration_seconds', help: 'Redis store script round trips', labelNames: ['script', 'result'], buckets: LATENCY_BUCKETS });
    this.errors = opts.metrics.counter({ name: 'gateway_store_redis_errors_total', help: 'Redis store failures by reason (unavailable, timeout, noscript, readonly, error)', labelNames: ['reason'] });
    // Each worker has its own connection: across a cluster, 1 only while every one is up.
    this.up = opts.metrics.gauge({ name: 'gateway_store_redis_up', help: '1 while the Redis store is connected', aggregator: 'min', collect: reportUp });
    openStoresOf(this.up).add(this);
    // Loaded on first use: a gateway on the memory store never pays ioredis's import time.
    const ioredis = loadIoredis();
    this.Command = preEncodedCommand(ioredis.Command);
    const connection: RedisConnection = { url: opts.url, cluster: opts.cluster ?? false, timeoutMs: opts.timeoutMs, tls: opts.tls, sentinel: opts.sentinel };
    const client = (this.client = createRedisClient(ioredis, connection));
    // A probe's deadline, and the least time between probes of a stalled Redis (redis-liveness.ts).
    const deadline = connectTimeoutFor(opts.timeoutMs);
    if (isCluster(client)) {
      this.single = undefined;
      this.silence = undefined;
      this.switchMaster = undefined;
      const slotOf = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;
      const ownerOf = (key: string): string | undefined => client.slots[slotOf(key)]?.[0];
      const login = client.options.redisOptions ?? {};
      const unreachable = (this.unreachable = new UnreachableNodes(client, ownerOf, (at) => probeNode(ioredis, { ...login, ...hostAndPort(at) }, deadline)));
      const watch = (node: Redis): SilenceCheck => {
        const at = nodeKey(node);
        return new SilenceCheck(() => bytesReadBy(node), () => probeNode(ioredis, node.options, deadline), (found) => this.dropDeadNode(node, at, found), deadline, opts.timeoutMs);
      };
      this.clusterSilence = new ClusterSilence(client, ownerOf, watch, (at) => unreachable.hold(at));
      // A node's client is new (ioredis makes a new one when a node returns, and never
      // reconnects an old one): queued now, the scripts reach it ahead of any EVALSHA.
      client.on('+node', (node: Redis) => {
        this.preloadAll(node);
        node.once('ready', () => this.nodeAnswers(nodeKey(node)));
      });
      // Logged once a node, however many calls fail while it is down: the cluster client
      // itself stays ready while one master fails over, so its 'ready' marks no recovery.
      client.on('node error', (err: Error, node: string) => {
        if ((err as NodeJS.ErrnoException).syscall === 'connect') unreachable.hold(node);
        if (this.failedNodes.has(node)) return;
        this.failedNodes.add(node);
        this.log.warn('redis cluster node failed; requests whose keys it holds get the fail mode until it or a replica taking its place answers', { node, err });
      });
    } else {
      this.single = client;
      this.clusterSilence = undefined;
      this.unreachable = undefined;
      this.silence = new SilenceCheck(() => this.replies, () => probeRedis(ioredis, connection, deadline), (found) => this.dropDeadConnection(found), deadline, opts.timeoutMs);
      // ioredis emits 'ready' on the tick `status` turns 'ready', before any other I/O: so
      // before any request can send an EVALSHA.
      client.on('ready', () => this.preloadAll(client));
      reconnectWhenEnded(client, () => !this.closed);
      this.switchMaster = opts.sentinel && followSwitchMaster(ioredis, client, opts.sentinel, sentinelConnectionOptions(connection), (to) => this.followingFailover(to));
    }
    this.client.on('ready', () => {
      this.startingUntil = 0;
      if (this.down) this.log.info('redis store reconnected', { url: this.url });
      this.down = false;
    });
    this.client.on('error', (err: Error) => this.markDown(err));
    this.client.on('close', () => this.markDown(new Error('connection closed')));
    this.client.connect().catch((err: unknown) => this.markDown(err as Error));
  }

  run<R>(script: AtomicScript<R>, group: string, keys: readonly string[], args: readonly number[]): Promise<R> {
    if (this.client.status !== 'ready') {
      this.errors.inc({ reason: 'unavailable' });
      return Promise.reject(new StoreUnavailableError(`redis store is ${this.client.status}`));
    }
    if (this.unreachable?.size) {
      const node = this.unreachable.heldOwnerOf(this.fullKey(group, ''));
      if (node !== undefined) {
        this.errors.inc({ reason: 'unavailable' });
        return Promise.reject(new StoreUnavailableError(`redis cluster node ${node} cannot be reached`));
      }
    }
    if (!this.corked && this.single) {
      this.corked = true;
      this.single.stream.cork();
      process.nextTick(this.uncork, this.single.stream);
    }
    const start = performance.now();
    // Encoded and sent now: the caller may refill `keys` and `args` once run returns (Store.run).
    const command = this.send(script, group, keys, args);
    const repliesAtSend = this.replies;
    // One promise, settled by the first of the reply, its failure and the deadline; a reply
    // after the deadline settles `late` instead. (A race of promises, a `finally` and an
    // async function made five promises a command, each resolved with an object.)
    return new Promise<R>((resolve, reject) => {
      let late: ((result: R | undefined) => void) | undefined;
      const timer = setTimeout(() => {
        this.observe(script, start, 'error');
        this.errors.inc({ reason: 'timeout' });
        this.silence?.timedOut(repliesAtSend);
        this.clusterSilence?.timedOut(this.fullKey(group, ''));
        // Sent is sent: Redis runs the script once it catches up, and its result is handed on.
        const handedOn = new Promise<R | undefined>((settle) => (late = settle));
        reject(new StoreUnavailableError(`redis store timed out after ${this.timeoutMs} ms`, { late: handedOn }));
      }, this.timeoutMs);
      const failed = (err: unknown): void => {
        this.replies++;
        if (late) return late(undefined);
        clearTimeout(timer);
        this.observe(script, start, 'error');
        if (err instanceof Error && isReadOnlyError(err)) this.reachedReplica(err);
        else this.errors.inc({ reason: 'error' });
        reject(new StoreUnavailableError(`redis store failed: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
      };
      const answered = (reply: unknown): void => {
        this.replies++;
        let result: R;
        try {
          result = script.parse(textReply(reply));
        } catch (err) {
          return failed(err);
        }
        if (late) return late(result);
        clearTimeout(timer);
        this.observe(script, start, 'ok');
        resolve(result);
      };
      command.promise.then(answered, (err: unknown) => {
        if (!(err as Error)?.message?.startsWith('NOSCRIPT')) return failed(err);
        // Redis lost its scripts under this connection: EVAL runs the script and caches it again.
        this.errors.inc({ reason: 'noscript' });
        const [, numkeys, ...keysAndArgs] = command.args; // the command's own: the caller's arrays may have been refilled
        this.client.eval(script.lua, numkeys, ...keysAndArgs).then(answered, failed);
      });
    });
  }

  private observe(script: AtomicScript<unknown>, start: number, result: 'ok' | 'error'): void {
    this.latency.observe({ script: script.name, result }, (performance.now() - start) / 1000);
  }

  /** EVALSHA, encoded once per group (see redis-script.ts); its reply comes raw, for {@link textReply}. */
  private send(script: AtomicScript<unknown>, group: string, keys: readonly string[], args: readonly number[]): ScriptCommand {
    let calls = this.calls.get(script.lua);
    if (calls === undefined) {
      this.calls.set(script.lua, (calls = new ScriptCalls(this.Command, createHash('sha1').update(script.lua).digest('hex'), this.fullKey, script.redisKeys)));
      this.preload(script.lua);
    }
    const command = calls.command(group, keys, args);
    this.client.sendCommand(command);
    return command;
  }

  private nodeAnswers(node: string): void {
    this.unreachable?.release(node);
    if (this.failedNodes.delete(node)) this.log.info('redis cluster node answers again', { node });
  }

  /** Every known script into `node`, which has just connected (or, in a cluster, been made). */
  private preloadAll(node: Redis): void {
    for (const lua of this.calls.keys()) this.preloadInto(node, lua);
  }

  /** A new script into every node, ahead of its EVALSHA on the same connection (Redis runs them in order). */
  private preload(lua: string): void {
    for (const node of scriptHosts(this.client)) this.preloadInto(node, lua);
  }

  private preloadInto(node: Redis, lua: string): void {
    node.script('LOAD', lua).catch((err: unknown) => {
      // A lost connection is the outage's to log (markDown); only Redis's own refusal is news.
      if (this.preloadRefused || (err as Error)?.name !== 'ReplyError') return;
      this.preloadRefused = true;
      this.log.warn('redis store could not load its scripts ahead; each first call falls back to EVAL', { err });
    });
  }

  ready(timeoutMs: number): Promise<boolean> {
    if (this.client.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.client.on('ready', onReady);
    });
  }

  /** Not connected yet, and still within the wait a pipeline build gives a new store. */
  get isStarting(): boolean {
    return performance.now() < this.startingUntil;
  }

  /** Whether the client is connected (a cluster's: to the cluster, though one master may be down). */
  get connected(): boolean {
    return this.client.status === 'ready';
  }

  async close(): Promise<void> {
    this.closed = true;
    openStoresOf(this.up).delete(this);
    this.unreachable?.close();
    this.switchMaster?.close();
    this.client.removeAllListeners('close');
    this.client.disconnect();
  }

  /**
   * A write refused READONLY: the connection outlived a failover on the old primary, now a
   * replica. ioredis reconnects on it (redis-client.ts); the new connection reaches the new primary.
   */
  private reachedReplica(err: Error): void {
    this.errors.inc({ reason: 'readonly' });
    if (this.down) return;
    this.down = true;
    this.log.warn('redis store reached a read-only replica (a failover moved the primary); reconnecting, fail mode until then', { url: this.url, fail_mode: this.failMode, err });
  }

  /** The connection carries nothing any more (redis-liveness.ts): drop it, so that calls fail at once until a new one is ready. */
  private dropDeadConnection(found: Exclude<ProbeResult, 'stalled'>): void {
    const single = this.single;
    if (!single || single.status !== 'ready') return;
    if (!this.down) {
      this.down = true;
      const why = found === 'answers' ? 'while Redis answers a new connection (the flow was lost: a failover, a NAT or load balancer)' : 'and its host cannot be reached';
      this.log.warn(`redis store connection stopped answering ${why}; reconnecting, fail mode until then`, { url: this.url, fail_mode: this.failMode });
    }
    // Not disconnect(): its FIN would wait on a peer that is gone, and 'close', which starts
    // ioredis's reconnect, would never come.
    single.stream.destroy();
  }

  /** The sentinels announced a new primary, not the one the connection is on: the listener reconnects, the store reads down until then. */
  private followingFailover(to: SwitchedPrimary): void {
    if (this.down) return;
    this.down = true;
    this.log.warn('redis store following a sentinel failover to a new primary; reconnecting, fail mode until then', { url: this.url, primary: `${to.host}:${to.port}`, fail_mode: this.failMode });
  }

  /** A cluster node's connection carries nothing any more: dropped, ioredis connects anew on the MOVED that follows. */
  private dropDeadNode(node: Redis, at: string, found: Exclude<ProbeResult, 'stalled'>): void {
    if (node.status !== 'ready') return;
    if (found === 'unreachable') this.unreachable?.hold(at);
    if (!this.failedNodes.has(at)) {
      this.failedNodes.add(at); // its return is logged, as a failed node's
      const why = found === 'answers' ? 'while the node answers a new connection' : 'and the node cannot be reached';
      this.log.warn(`redis cluster node connection stopped answering ${why}; dropping it, fail mode for its keys until a new one is ready`, { node: at });
    }
    node.stream.destroy();
  }

  private markDown(err: Error): void {
    if (this.down) return; // log an outage once, not every reconnect attempt
    this.down = true;
    this.log.warn('redis store unavailable; applying fail mode until it returns', { fail_mode: this.failMode, err });
  }
}

/**
 * The open stores that report through `gauge` (one per metrics registry): a reload that
 * changed the store's settings has an old one open until the pipelines using it drain.
 */
const openStores = new WeakMap<Gauge, Set<RedisStore>>();

function openStoresOf(gauge: Gauge): Set<RedisStore> {
  let open = openStores.get(gauge);
  if (!open) openStores.set(gauge, (open = new Set()));
  return open;
}

/**
 * At a scrape: 1 while every open store in use is connected; no sample once none is open (a
 * reload back to the memory store). A store a reload is still connecting is not yet in use:
 * the one serving speaks meanwhile. At the first start, before any has connected, 0.
 */
function reportUp(this: Gauge): void {
  const open = openStores.get(this);
  if (!open || open.size === 0) return this.reset();
  let inUse = 0;
  let connected = true;
  for (const store of open) {
    if (store.isStarting) continue;
    inUse++;
    connected &&= store.connected;
  }
  this.set(inUse > 0 && connected ? 1 : 0);
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
