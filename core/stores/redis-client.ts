/**
 * The Redis store's connection: one client for a single Redis (or a proxy in front of
 * several), or ioredis's Cluster client for Redis Cluster, which learns the slot map from
 * the `url` node, sends each script to its keys' slot and follows MOVED and ASK. Both
 * fail fast while disconnected instead of queueing, and reconnect in the background.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisTlsOptions } from './redis-tls.js';

export type RedisClient = Redis | Cluster;

/** How often a cluster client reads the slot map again. */
const SLOTS_REFRESH_MS = 10_000;

/** Backoff between reconnects: 100 ms doubling to 2 s. */
const retry = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000);

export function createRedisClient(ioredis: typeof import('ioredis'), url: string, cluster: boolean, timeoutMs: number, tlsFiles?: RedisTlsOptions): RedisClient {
  const lazyConnect = true;
  // Each connection's (a cluster's: each node's). No commandTimeout: ioredis would drop a
  // reply that comes late, and a reservation Redis still makes then could never be handed
  // back (see RedisStore.run).
  const connection = { connectTimeout: connectTimeoutFor(timeoutMs), maxRetriesPerRequest: 0 };
  // Fails fast while down instead of piling requests up.
  // The files' options are TLS's only: over a redis:// url (which the config refuses) they would turn TLS on.
  const overTls = url.startsWith('rediss://') && tlsFiles ? { tls: tlsFiles } : {};
  // A failover that leaves the connection on the old primary, now a replica (behind an
  // endpoint whose name or address moved to the new one): every write is refused READONLY
  // until it reconnects, and reconnecting reaches the new primary.
  if (!cluster) return new ioredis.Redis(url, { lazyConnect, enableOfflineQueue: false, ...connection, ...overTls, retryStrategy: retry, reconnectOnError: isReadOnlyError });
  const seed = clusterSeed(url);
  const { host, port, username, password } = seed;
  const tls = seed.tls && { ...seed.tls, ...tlsFiles };
  return new ioredis.Cluster([{ host, port }], {
    lazyConnect,
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
    redisOptions: { ...connection, username, password, tls },
  });
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

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}
