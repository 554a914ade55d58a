/**
 * Telling a dead connection from a slow Redis. A connection to Redis can stop carrying
 * anything with no reset to say so — its host powered off, a NAT or load balancer forgot the
 * flow, a failover moved the endpoint's address — and the kernel keeps it open through many
 * minutes of retransmits, while every call waits out `timeout_ms` and the store reads as up.
 * A stalled Redis (a long fork, CLIENT PAUSE, a slow script) looks the same from here, but
 * its connection must be kept: what it runs once it catches up is handed back through the
 * late replies.
 *
 * So when a call times out and nothing at all has come back on the connection since it was
 * sent, a probe asks: a new connection with the same settings, up to its ready check.
 * Ready means Redis answers others but not us, so our flow is dead; no connection at all
 * means the host is gone. Either way the store drops its connection (calls then fail at once
 * while it reconnects). A probe that connects but is not answered in time, or is answered
 * with an error (BUSY, LOADING), finds a stalled Redis: the connection is kept.
 *
 * A single Redis's connection is watched by the replies read off it. A Redis Cluster's nodes
 * are watched each by the bytes its connection has read, the node found by the slot of the
 * call's keys; a dropped node's connection is made anew by ioredis on the MOVED that follows,
 * unless its host was found unreachable: then calls on its slots fail at once until it answers
 * (redis-unreachable.ts).
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { nodeKey, RESP2, singleRedisOptions, type RedisConnection } from './redis-client.js';

export type ProbeResult = 'answers' | 'unreachable' | 'stalled';

/**
 * Whether the Redis `connection` leads to answers a new connection within `deadlineMs` (see
 * the file's comment): the store's own settings, asking the sentinels too when it has them,
 * but a single attempt.
 */
export function probeRedis(ioredis: typeof import('ioredis'), connection: RedisConnection, deadlineMs: number): Promise<ProbeResult> {
  return probeWith((once) => new ioredis.Redis(connection.url, { ...singleRedisOptions(connection), ...once }), deadlineMs);
}

/** Where a cluster node is and how to log in: its connection's options, or the cluster's with its address. */
export type NodeAddress = Pick<RedisOptions, 'host' | 'port' | 'username' | 'password' | 'tls'>;

/** {@link probeRedis} for one node of a cluster, with the settings of the store's connections to it. */
export function probeNode(ioredis: typeof import('ioredis'), { host, port, username, password, tls }: NodeAddress, deadlineMs: number): Promise<ProbeResult> {
  return probeWith((once) => new ioredis.Redis({ ...RESP2, host, port, username, password, tls, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, ...once }), deadlineMs);
}

/** A single attempt, whatever the client would otherwise retry. */
interface Once {
  connectTimeout: number;
  retryStrategy: () => null;
  sentinelRetryStrategy: () => null;
  failoverDetector: false;
  reconnectOnError: null;
}

function probeWith(make: (once: Once) => Redis, deadlineMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const client = make({ connectTimeout: deadlineMs, retryStrategy: () => null, sentinelRetryStrategy: () => null, failoverDetector: false, reconnectOnError: null });
    let connected = false;
    let settled = false;
    const settle = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      client.disconnect();
      resolve(result);
    };
    // Connected but not ready by the deadline: Redis (or its AUTH, its ready check) is not answering.
    const deadline = setTimeout(() => settle(connected ? 'stalled' : 'unreachable'), deadlineMs);
    client.on('connect', () => (connected = true));
    client.on('error', () => undefined); // the outcome is read from connect(), not logged
    client.connect().then(
      () => settle('answers'),
      (err: unknown) => settle((err as Error)?.name === 'ReplyError' ? 'stalled' : 'unreachable'),
    );
  });
}

/**
 * Watches one connection for silence, by `heard`, a number that moves whenever anything is
 * read off it. Told when a call timed out, with `heard` at the call's send (or, when that is
 * unknown, now). At most one probe runs at a time, and after one finds a stalled Redis the
 * next waits `intervalMs`. A probe that finds Redis answering is trusted only if the
 * connection stays silent `graceMs` longer: a stall that ends while the probe waits frees both
 * connections at once, and the probe's answer may be read before the replies queued on ours.
 */
export class SilenceCheck {
  private probing = false;
  private quietUntil = 0;

  constructor(
    readonly heard: () => number,
    private readonly probe: () => Promise<ProbeResult>,
    private readonly dead: (result: Exclude<ProbeResult, 'stalled'>) => void,
    private readonly intervalMs: number,
    private readonly graceMs: number,
  ) {}

  timedOut(heardAtSend: number): void {
    if (this.heard() !== heardAtSend || this.probing || performance.now() < this.quietUntil) return;
    this.probing = true;
    const heardAtProbe = this.heard();
    // Anything read meanwhile proves the connection alive (a gateway whose own event loop was
    // blocked fires its timers before it reads replies that had long arrived, too).
    const alive = (): boolean => this.heard() !== heardAtProbe;
    void this.probe().then((result) => {
      if (result === 'stalled' || alive()) return this.rest();
      setTimeout(() => {
        if (alive()) return this.rest();
        this.probing = false;
        this.dead(result);
      }, this.graceMs).unref();
    });
  }

  private rest(): void {
    this.probing = false;
    this.quietUntil = performance.now() + this.intervalMs;
  }
}

/** One {@link SilenceCheck} for each master of a Redis Cluster, by `host:port`. */
export class ClusterSilence {
  private readonly checks = new Map<string, { node: Redis; check: SilenceCheck }>();

  constructor(
    private readonly cluster: Cluster,
    /** The master (`host:port`) that owns a key's slot now. */
    private readonly ownerOf: (key: string) => string | undefined,
    private readonly watch: (node: Redis) => SilenceCheck,
    /** The master `at` was still connecting when a call's deadline passed: there is no connection to watch. */
    private readonly notConnected: (at: string) => void,
  ) {}

  /** A call on `key` timed out: the master that owns its slot now is watched from here. */
  timedOut(key: string): void {
    const owner = this.ownerOf(key);
    if (owner === undefined) return;
    const node = this.cluster.nodes('master').find((n) => nodeKey(n) === owner);
    if (!node) return;
    if (node.status === 'connecting') return this.notConnected(owner);
    let watched = this.checks.get(owner);
    // ioredis makes a new client for a node that returns: a check is for one client.
    if (watched?.node !== node) this.checks.set(owner, (watched = { node, check: this.watch(node) }));
    watched.check.timedOut(watched.check.heard());
  }
}

/** What a connection has read so far (0 before it has a socket). */
export function bytesReadBy(node: Redis): number {
  return (node.stream as { bytesRead?: number } | undefined)?.bytesRead ?? 0;
}
