/**
 * Follows a Sentinel failover the moment the sentinels announce it (`+switch-master`), in
 * place of ioredis's own failover detector. That one drops the connection on every
 * announcement: of any master group the sentinels watch, and also when the client is
 * already on the new primary. It often is: a sentinel names the promoted replica from the
 * moment it reconfigures the other replicas, and announces the switch a tick or more later
 * (each sentinel on its own, as it learns). A client that asked in between reached the new
 * primary by itself, and the announcement then dropped it again, so requests got the fail
 * mode just after the failover had recovered.
 *
 * Here an announcement drops the connection only when it names the store's master group
 * and a primary other than the one the connection is on. A client still connecting is left
 * alone: it asks the sentinels, and they name the new primary. One waiting out its
 * reconnect backoff (up to 0.5 s) after its primary died connects at once.
 */
import { isIP } from 'node:net';
import type { Redis, RedisOptions } from 'ioredis';
import { hostAndPort, type RedisSentinel } from './redis-client.js';

const CHANNEL = '+switch-master';

/** The primary a `+switch-master` announcement names: `<master> <old ip> <old port> <new ip> <new port>`. */
export interface SwitchedPrimary {
  master: string;
  host: string;
  port: number;
}

/** The announcement's group and new primary; undefined for anything else on the channel. */
export function parseSwitchMaster(message: string): SwitchedPrimary | undefined {
  const parts = message.split(' ');
  if (parts.length !== 5) return undefined;
  const port = Number(parts[4]);
  if (!Number.isInteger(port) || port <= 0) return undefined;
  return { master: parts[0]!, host: parts[3]!, port };
}

/** The addresses a host name stands for, as the resolver gives them; rejects when it does not resolve. */
export type HostLookup = (host: string) => Promise<readonly string[]>;

/** Node's resolver, loaded on a sentinel's first host name: every start would pay ~0.4 ms for it. */
const resolverLookup: HostLookup = async (host) => {
  const { lookup } = await import('node:dns/promises');
  return (await lookup(host, { all: true })).map((found) => found.address);
};

/** How long a host name's lookup may take without `connectTimeout` in the options: ioredis's own connect default. */
const LOOKUP_LIMIT_MS = 10_000;

/**
 * The addresses `host` stands for: itself when it is one; else what the resolver gives, as
 * it gave the client's connect (sentinels with `announce-hostnames yes` name hosts, as in
 * Kubernetes). None when it does not resolve, or not within `limitMs`: a resolver that
 * hangs (its default is seconds a try) would hang the connect to that host as well.
 */
function addressesOf(host: string, resolve: HostLookup, limitMs: number): Promise<readonly string[]> {
  if (isIP(host) !== 0) return Promise.resolve([host]);
  return new Promise((settle) => {
    const timer = setTimeout(() => settle([]), limitMs).unref(); // holds no closing process open
    void resolve(host)
      .then(settle, () => settle([]))
      .finally(() => clearTimeout(timer));
  });
}

/** Whether `client`'s connection goes to `primary`, at one of its `addresses`. */
function isOn(client: Redis, primary: SwitchedPrimary, addresses: readonly string[]): boolean {
  const { remoteAddress, remotePort } = client.stream ?? {};
  return remotePort === primary.port && remoteAddress !== undefined && addresses.includes(remoteAddress);
}

const isConnected = (client: Redis): boolean => client.status === 'ready' || client.status === 'connect';

export interface SwitchMasterFollower {
  close(): void;
}

/**
 * Subscribes to `+switch-master` on each of `sentinel.nodes` (those in the config: the ones
 * ioredis learns later are asked for the primary, not listened to), with `options` for their
 * TLS, timeouts and retries. When the store's primary moved away from the one `client` is
 * on, calls `moved` and reconnects `client` at once; when `client` is waiting to reconnect,
 * connects it. A sentinel that is down is subscribed again when it returns. Each announcement
 * is followed as it comes: one still resolving its host name (`resolve`, at most the
 * connect timeout) when a later one comes is dropped, so a hung lookup holds nothing back.
 */
export function followSwitchMaster(
  ioredis: typeof import('ioredis'),
  client: Redis,
  sentinel: RedisSentinel,
  options: RedisOptions,
  moved: (to: SwitchedPrimary) => void,
  resolve: HostLookup = resolverLookup,
): SwitchMasterFollower {
  let closed = false;
  const lookupLimitMs = options.connectTimeout ?? LOOKUP_LIMIT_MS;
  /** The last announcement's number: it names the primary now, and an earlier one still resolving its host is dropped. */
  let latest = 0;
  const follow = async (to: SwitchedPrimary, announced: number): Promise<void> => {
    // Waiting out its backoff since the old primary was lost: the sentinels name the new one now.
    if (client.status === 'reconnecting') {
      client.connect().catch(() => undefined);
      return;
    }
    if (!isConnected(client)) return;
    const addresses = await addressesOf(to.host, resolve, lookupLimitMs);
    // Asked again after the lookup: a later switch may have been announced, the client may
    // have moved, or the store closed, meanwhile.
    if (announced !== latest || closed || !isConnected(client) || isOn(client, to, addresses)) return;
    moved(to);
    reconnectAtOnce(client, () => closed);
  };
  const subscribers = sentinel.nodes.map((node) => {
    // Queued until connected, however long a sentinel is down: a failed SUBSCRIBE is not retried.
    const subscriber = new ioredis.Redis({ ...options, ...hostAndPort(node), username: sentinel.username, password: sentinel.password, maxRetriesPerRequest: null, enableOfflineQueue: true });
    subscriber.on('error', () => undefined); // the store's own connection reports outages
    subscriber.subscribe(CHANNEL).catch(() => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== CHANNEL) return;
      const to = parseSwitchMaster(message);
      // Not queued behind an earlier announcement's lookup: the latest switch is the one to follow.
      if (to?.master === sentinel.master) follow(to, ++latest).catch(() => undefined);
    });
    return subscriber;
  });
  return {
    close: () => {
      closed = true;
      for (const subscriber of subscribers) subscriber.disconnect();
    },
  };
}

/**
 * Drops `client`'s connection and connects again at once rather than after the reconnect
 * backoff: the sentinels already name the new primary. The socket is destroyed, not just
 * ended: the old primary may hang (why it failed over), and its FIN with it.
 */
function reconnectAtOnce(client: Redis, closed: () => boolean): void {
  client.once('end', () => {
    if (!closed()) client.connect().catch(() => undefined);
  });
  client.disconnect();
  client.stream.destroy();
}
