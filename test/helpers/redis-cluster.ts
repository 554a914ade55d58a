/**
 * A real Redis Cluster on loopback: `masters` redis-servers in cluster mode, the 16,384
 * slots split evenly among them, joined with CLUSTER MEET, and optionally `replicas` more
 * per master (CLUSTER REPLICATE), which take over a master's slots when it fails. Each node
 * keeps its identity and slots in a nodes file in a temporary directory, so a node
 * restarted with `restart()` rejoins as it was (but empty: no keys, no scripts).
 */
import type { RedisStore } from '../../core/stores/redis.js';
import type { AtomicScript } from '../../core/stores/types.js';
import { waitFor } from './live.js';
import { freePort } from './ports.js';
import { startRedis, type RedisTls, type TestRedis } from './redis.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { tempDir } from './temp-dir.js';

export interface TestRedisCluster {
  /** The masters, in slot order: the first owns slots 0 to 16,384 / masters − 1. */
  readonly nodes: readonly TestRedis[];
  /** `replicasOf[i]` replicate `nodes[i]`. */
  readonly replicasOf: ReadonlyArray<readonly TestRedis[]>;
  /** The first node's URL: a seed for a cluster client. */
  readonly url: string;
  /** Resolves once every live node reports `cluster_state:ok` and knows every other. */
  ready(): Promise<void>;
}

export interface ClusterShape {
  masters?: number;
  /** Replicas per master. */
  replicas?: number;
  /**
   * Redis's `cluster-require-full-coverage` (default yes): while a slot has no live master
   * (a master died, its replica not yet promoted), every node refuses every command. With
   * false, only the uncovered slots do.
   */
  fullCoverage?: boolean;
  /** Every node's port, the cluster bus and replication over TLS; `url` is then `rediss://localhost:…`. */
  tls?: RedisTls;
  /**
   * Nodes known by this name rather than their address (CLUSTER SLOTS and MOVED name it, as
   * managed clusters' TLS endpoints do), so a certificate for the name alone serves.
   */
  hostname?: string;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

const SLOTS = 16_384;

export async function startRedisCluster(t: Teardown, { masters = 3, replicas = 0, fullCoverage = true, tls, hostname }: ClusterShape = {}): Promise<TestRedisCluster> {
  const dir = tempDir('aigw-redis-cluster-');
  const busPorts: number[] = [];
  const startNode = async (): Promise<TestRedis> => {
    // The bus port is chosen too: by default it is the port + 10,000, which nothing checked was free.
    const busPort = await freePort();
    const i = busPorts.push(busPort) - 1;
    const overTls = tls ? ['--tls-cluster', 'yes', '--tls-replication', 'yes'] : [];
    const named = hostname ? ['--cluster-announce-hostname', hostname, '--cluster-preferred-endpoint-type', 'hostname'] : [];
    return startRedis(t, ['--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '1000', '--cluster-require-full-coverage', fullCoverage ? 'yes' : 'no', '--repl-ping-replica-period', '1', '--dir', dir, ...overTls, ...named], { tls });
  };
  const nodes: TestRedis[] = [];
  for (let i = 0; i < masters; i++) nodes.push(await startNode());
  const share = Math.ceil(SLOTS / masters);
  for (let i = 0; i < masters; i++) {
    const first = i * share;
    const last = Math.min(SLOTS, first + share) - 1;
    expectOk(await nodes[i].command('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last)), 'CLUSTER ADDSLOTSRANGE');
  }
  const replicasOf: TestRedis[][] = [];
  for (let i = 0; i < masters; i++) {
    replicasOf.push([]);
    for (let r = 0; r < replicas; r++) replicasOf[i].push(await startNode());
  }
  const all = [...nodes, ...replicasOf.flat()];
  for (const node of all.slice(1)) expectOk(await node.command('CLUSTER', 'MEET', '127.0.0.1', String(nodes[0].port), String(busPorts[0])), 'CLUSTER MEET');
  const knowsAll = async (node: TestRedis): Promise<boolean> => (await node.command('CLUSTER', 'INFO').catch(() => '')).includes(`cluster_known_nodes:${all.length}`);
  const ready = async (): Promise<void> => {
    const allOk = async (): Promise<boolean> => {
      const live = all.filter((n) => n.pid !== -1);
      const infos = await Promise.all(live.map((n) => n.command('CLUSTER', 'INFO').catch(() => '')));
      return infos.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${all.length}`));
    };
    await until(allOk, 'the Redis Cluster did not reach cluster_state:ok');
  };
  if (replicas > 0) {
    // A replica can follow a master only once gossip has told it of that master.
    await until(async () => (await Promise.all(all.map(knowsAll))).every(Boolean), 'the Redis Cluster nodes did not all meet');
    for (let i = 0; i < masters; i++) {
      const id = bulkText(await nodes[i].command('CLUSTER', 'MYID'));
      for (const replica of replicasOf[i]) expectOk(await replica.command('CLUSTER', 'REPLICATE', id), 'CLUSTER REPLICATE');
    }
    const linked = async (): Promise<boolean> => (await Promise.all(replicasOf.flat().map((r) => r.command('INFO', 'replication')))).every((info) => info.includes('master_link_status:up'));
    await until(linked, 'the Redis Cluster replicas did not sync with their masters');
    // And every node lists them in CLUSTER SLOTS, where clients learn of them. Redis leaves
    // out a replica until its replication offset is above 0, which takes a write or a
    // replication ping (hence `repl-ping-replica-period 1`), then gossip.
    const listed = async (node: TestRedis): Promise<boolean> => {
      const slots = await node.command('CLUSTER', 'SLOTS');
      return replicasOf.flat().every((r) => slots.includes(`:${r.port}\r\n`));
    };
    await until(async () => (await Promise.all(all.map(listed))).every(Boolean), 'the Redis Cluster nodes did not all list the replicas in CLUSTER SLOTS');
  }
  await ready();
  return { nodes, replicasOf, url: nodes[0].url, ready };
}

async function until(check: () => Promise<boolean>, failure: string): Promise<void> {
  await waitFor(check, 10_000, 50).catch(() => {
    throw new Error(failure);
  });
}

/** The text of a RESP bulk-string reply (`$<n>\r\n<text>\r\n`). */
function bulkText(reply: string): string {
  const [header, text] = reply.split('\r\n');
  if (!header.startsWith('$')) throw new Error(`expected a bulk string: ${reply.trim()}`);
  return text;
}

function expectOk(reply: string, what: string): void {
  if (!reply.startsWith('+OK')) throw new Error(`${what}: ${reply.trim()}`);
}

export interface RelayedCluster extends TestRedisCluster {
  /** `relays[i]` stands in front of `nodes[i]`: the address the cluster names that master by. */
  readonly relays: readonly TcpProxy[];
}

/**
 * A cluster (see {@link startRedisCluster}) whose every master is announced at a TCP relay in
 * front of it (`cluster-announce-port`), so a client reaches the masters through the relays,
 * which a test can cut off (tcp-proxy.ts); `url` is the first relay's. Resolves once every
 * node's slot map names the relays. Replicas are reached directly.
 */
export async function startRelayedCluster(t: Teardown, shape: ClusterShape = {}): Promise<RelayedCluster> {
  const cluster = await startRedisCluster(t, shape);
  const relays: TcpProxy[] = [];
  for (const node of cluster.nodes) {
    const relay = await startTcpProxy(t, node.port);
    expectOk(await node.command('CONFIG', 'SET', 'cluster-announce-port', String(relay.port)), 'CONFIG SET cluster-announce-port');
    relays.push(relay);
  }
  const all = [...cluster.nodes, ...cluster.replicasOf.flat()];
  const namesRelays = async (node: TestRedis): Promise<boolean> => {
    const slots = await node.command('CLUSTER', 'SLOTS');
    return relays.every((r) => slots.includes(`:${r.port}\r\n`));
  };
  await until(async () => (await Promise.all(all.map(namesRelays))).every(Boolean), 'the Redis Cluster nodes did not all name the relays');
  return { ...cluster, relays, url: `redis://127.0.0.1:${relays[0].port}` };
}

/** Says which node ran it: the server's own port (not a relay's), from its INFO. */
const whereRun: AtomicScript<string> = {
  name: 'where',
  lua: "redis.call('SET', KEYS[1], 1, 'PX', 60000) return string.match(redis.call('INFO', 'server'), 'tcp_port:(%d+)')",
  local: () => '',
  parse: (reply) => String(reply),
};

/** One call for each group: the port of the node that ran it, or the Error it failed with. */
export function runEverywhere(store: RedisStore, groups: readonly string[]): Promise<Array<string | Error>> {
  return Promise.all(groups.map((g) => store.run(whereRun, g, ['w'], []).catch((err: unknown) => err as Error)));
}
