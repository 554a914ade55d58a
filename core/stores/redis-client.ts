/**
 * The Redis store's connection: one client for a single Redis (or a proxy in front of
 * several; or, with `sentinel`, whichever Redis the sentinels name as the master group's
 * primary), or ioredis's Cluster client for Redis Cluster, which learns the slot map from
 * the `url` node, sends each script to its keys' slot and follows MOVED and ASK. Both
 * fail fast while disconnected instead of queueing, and reconnect in the background.
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { RedisTlsOptions } from './redis-tls.js';

export type RedisClient = Redis | Cluster;

/** Redis Sentinel (`store.redis.sentinel`): the sentinels to ask which Redis is the primary. */
export interface RedisSentinel {
  /** The master group's name, as the sentinels monitor it. */
  master: string;
  /** `host:port` of each sentinel known at start; ioredis learns the others from them. */
  nodes: readonly string[];
  /** The sentinels' own password (their `requirepass`, or their ACL user's), when they have one. */
  password?: string;
  /** The sentinels' ACL user, when they authenticate by user (Redis 6.2+). */
  username?: string;
}

/** Where and how the store connects. */
export interface RedisConnection {
  url: string;
  cluster: boolean;
  timeoutMs: number;
  tls?: RedisTlsOptions;
  sentinel?: RedisSentinel;
}

/** How often a cluster client reads the slot map again. */
const SLOTS_REFRESH_MS = 10_000;

/** Backoff between reconnects: 100 ms doubling to 2 s. */
const retry = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000);

/**
 * Backoff between reconnects through Sentinel: 100 ms doubling to 500 ms. Each attempt asks a
 * sentinel first, and after a primary dies it names the old one until it has promoted a
 * replica (seconds), so the attempt after the promotion is the one that counts: at 2 s
 * apart it came 0.9 s after the promotion on average (loopback, `down-after-milliseconds`
 * 1000). Sentinels are built to be asked; the cost is two connects a second while down.
 */
const sentinelRetry = (times: number): number => Math.min(retry(times), 500);

export function createRedisClient(ioredis: typeof import('ioredis'), connection: RedisConnection): RedisClient {
  const { url, timeoutMs, tls: tlsFiles } = connection;
  if (!connection.cluster) return new ioredis.Redis(url, singleRedisOptions(connection));
  const seed = clusterSeed(url);
  const { host, port, username, password } = seed;
  const tls = seed.tls && { ...seed.tls, ...tlsFiles };
  return new ioredis.Cluster([{ host, port }], {
    lazyConnect: true,
    clusterRetryStrategy: retry,
    // A call whose master is unreachable (dead, its replica not yet promoted: seconds, 15 by
    // Redis's default node timeout) or that the cluster refuses (CLUSTERDOWN) fails at once, so
    // the fail mode applies then; ioredis's default retries every 100 ms for about a second,
    // which `timeout_ms` cuts short, so each such call cost the whole deadline. MOVED and ASK
    // are still followed: a promoted replica is found through them.
    retryDelayOnFailover: 0,
    // With no retry, a call must wait for a node that is still connecting (a new master, a
    // node at start-up) rather than fail, which is what ioredis does with no offline queue.
    // Nothing waits on the cluster as a whole: the store sends nothing unless it is ready.
    enableOfflineQueue: true,
    retryDelayOnClusterDown: 0,
    // ioredis reads the slot map on connecting and after a MOVED only; read every so often,
    // it shows replicas added or returned since, which then get the scripts before one of
    // them is promoted (each read is one CLUSTER SLOTS on a connection of its own).
    slotsRefreshInterval: SLOTS_REFRESH_MS,
    // Over TLS the seed keeps its name rather than an address, so its certificate matches it
    // (what ioredis advises for managed clusters such as ElastiCache's).
    ...(tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    // Every node's connection carries the seed's credentials and TLS, as a cluster's nodes share them.
    redisOptions: { ...nodeOptions(timeoutMs), username, password, tls },
  });
}

/**
 * RESP2, as ioredis 5 spoke; ioredis 6 asks for RESP3 (HELLO 3) on every connect unless told.
 * RESP3 gives the store nothing (it reads integers and arrays, and subscribes to one
 * channel), while HELLO adds to each connect's handshake and, against a server without it
 * (Redis before 6, some proxies), a second handshake in RESP2.
 */
export const RESP2 = { protocol: 2 } as const satisfies RedisOptions;

/**
 * Each connection's timings (a cluster's: each node's). No commandTimeout: ioredis would drop
 * a reply that comes late, and a reservation Redis still makes then could never be handed
 * back (see RedisStore.run). No retries per request: a call fails fast instead of piling up.
 */
function nodeOptions(timeoutMs: number): RedisOptions {
  return { ...RESP2, connectTimeout: connectTimeoutFor(timeoutMs), maxRetriesPerRequest: 0 };
}

/**
 * Connects `client` again whenever ioredis gives it up ('end') while the store still wants it.
 * ioredis ends a client for good when its connector, rather than the connection it made,
 * fails a connect: when something disconnects it while it is still asking the sentinels.
 * ioredis's own failover detector did that on hearing `+switch-master` just then, so the
 * store stayed down until a restart after a failover. That detector is off now (see
 * redis-switch-master.ts); this stays, so that no such end can leave the store down.
 */
export function reconnectWhenEnded(client: Redis, wanted: () => boolean): void {
  let ends = 0;
  client.on('ready', () => (ends = 0));
  client.on('end', () => {
    if (!wanted()) return;
    setTimeout(() => {
      // A failure is also an 'error' event, which the store logs.
      if (wanted() && client.status === 'end') client.connect().catch(() => undefined);
    }, retry(++ends)).unref();
  });
}

/** ioredis's options for a single Redis, or for the primary `connection.sentinel` names; `url` is given beside them. */
export function singleRedisOptions(connection: RedisConnection): RedisOptions {
  const { url, tls, sentinel } = connection;
  return {
    lazyConnect: true,
    // Fails fast while down instead of queueing.
    enableOfflineQueue: false,
    ...nodeOptions(connection.timeoutMs),
    // The files' options are TLS's only: over a redis:// url (which the config refuses) they would turn TLS on.
    ...(url.startsWith('rediss://') && tls ? { tls } : {}),
    ...(sentinel ? sentinelOptions(sentinel, sentinelTls(connection)) : {}),
    retryStrategy: sentinel ? sentinelRetry : retry,
    // A failover that leaves the connection on the old primary, now a replica (behind an
    // endpoint whose name or address moved to the new one): every write is refused READONLY
    // until it reconnects, and reconnecting reaches the new primary.
    reconnectOnError: isReadOnlyError,
  };
}

/**
 * The sentinels are asked for the primary's address at every connect, so a reconnect after
 * a failover reaches the new one. The url's host and port go unused; its credentials and
 * database are the primary's. ioredis's failover detector is off: the store listens to the
 * sentinels itself (redis-switch-master.ts), so as to follow only a switch that concerns it.
 */
function sentinelOptions(sentinel: RedisSentinel, tls: RedisTlsOptions | undefined): RedisOptions {
  return {
    // Over rediss://, the sentinels and the primary alike, with the same CA and client certificate.
    ...(tls ? { enableTLSForSentinelMode: true, tls, sentinelTLS: tls } : {}),
    name: sentinel.master,
    sentinels: sentinel.nodes.map(hostAndPort),
    sentinelUsername: sentinel.username,
    sentinelPassword: sentinel.password,
    failoverDetector: false,
    // No sentinel answering is a connect that fails: the store reads down, the fail mode
    // applies, and the sentinels are tried again from the first, as the primary is.
    sentinelRetryStrategy: sentinelRetry,
  };
}

/** A connection of the store's own to a sentinel (its `+switch-master` subscription): TLS, timeout and backoff as the connector's. */
export function sentinelConnectionOptions(connection: RedisConnection): RedisOptions {
  const tls = sentinelTls(connection);
  return { ...RESP2, ...(tls ? { tls } : {}), connectTimeout: connectTimeoutFor(connection.timeoutMs), retryStrategy: sentinelRetry };
}

/** Over rediss://, the TLS settings for the sentinels (the primary's: the same CA and client certificate). */
function sentinelTls(connection: RedisConnection): RedisTlsOptions | undefined {
  return connection.url.startsWith('rediss://') ? (connection.tls ?? {}) : undefined;
}

/** `host:port` (an IPv6 literal in brackets) as ioredis's address. */
export function hostAndPort(node: string): { host: string; port: number } {
  const colon = node.lastIndexOf(':');
  return { host: node.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(node.slice(colon + 1)) };
}

/** How long a connection attempt may take: the call deadline, but never under a second. */
export function connectTimeoutFor(timeoutMs: number): number {
  return Math.max(1000, timeoutMs);
}

/** Redis's refusal of a write on a replica. */
export function isReadOnlyError(err: Error): boolean {
  return err.message.startsWith('READONLY');
}

/** Why `url` cannot name a Redis Cluster node, or undefined: checked when the config loads. */
export function clusterUrlProblem(url: string): string | undefined {
  const { pathname } = new URL(url);
  if (pathname !== '' && pathname !== '/' && pathname !== '/0') return `Redis Cluster has only database 0: drop "${pathname}" from the URL, or set cluster: false`;
  return undefined;
}

/** Why `store.redis.sentinel` cannot go with `cluster: true`: checked when the config loads. */
export const SENTINEL_WITH_CLUSTER = 'Redis Cluster and Redis Sentinel exclude each other: a cluster fails over by itself (drop sentinel, or set cluster: false)';

/** `host:port`, an IPv6 address in brackets. */
const SENTINEL_NODE = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s:/@[\]]+):([0-9]{1,5})$/;

/** Why a sentinel's address is not `host:port`, or undefined: checked when the config loads. */
export function sentinelNodeProblem(node: string): string | undefined {
  const port = Number(SENTINEL_NODE.exec(node)?.[1] ?? 0);
  return port >= 1 && port <= 65535 ? undefined : `"${node}" is not host:port (a port from 1 to 65535; an IPv6 address in brackets, as [fd00::7]:26379)`;
}

/** The seed node of a cluster `url` (see {@link clusterUrlProblem}). */
export function clusterSeed(url: string): { host: string; port: number; username?: string; password?: string; tls?: object } {
  const problem = clusterUrlProblem(url);
  if (problem) throw new Error(`store.redis.url: ${problem}`);
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''), // an IPv6 literal without its brackets
    port: u.port === '' ? 6379 : Number(u.port),
    username: u.username === '' ? undefined : decodeURIComponent(u.username),
    password: u.password === '' ? undefined : decodeURIComponent(u.password),
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/** The nodes a script must be loaded into: every node of a cluster (a replica may be promoted), or the one client. */
export function scriptHosts(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('all') : [client];
}

/** A node's `host:port`, as the cluster's slot map and its events name it. */
export function nodeKey(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}
