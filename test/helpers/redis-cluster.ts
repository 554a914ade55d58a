/**
 * A real Redis Cluster on loopback: `masters` redis-servers in cluster mode, the 16,384
 * slots split evenly among them, joined with CLUSTER MEET. No replicas. Each node keeps
 * its identity and slots in a nodes file in a temporary directory, so a node restarted
 * with `restart()` rejoins as it was (but empty: no keys, no scripts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from './live.js';
import { freePort } from './ports.js';
import { startRedis, type TestRedis } from './redis.js';

export interface TestRedisCluster {
  readonly nodes: readonly TestRedis[];
  /** The first node's URL: a seed for a cluster client. */
  readonly url: string;
  /** Resolves once every node reports `cluster_state:ok` and knows every other. */
  ready(): Promise<void>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

const SLOTS = 16_384;

export async function startRedisCluster(t: Teardown, masters = 3): Promise<TestRedisCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'aigw-redis-cluster-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const nodes: TestRedis[] = [];
  const busPorts: number[] = [];
  for (let i = 0; i < masters; i++) {
    // The bus port is chosen too: by default it is the port + 10,000, which nothing checked was free.
    busPorts.push(await freePort());
    nodes.push(await startRedis(t, ['--cluster-enabled', 'yes', '--cluster-port', String(busPorts[i]), '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '1000', '--dir', dir]));
  }
  const share = Math.ceil(SLOTS / masters);
  for (let i = 0; i < masters; i++) {
    const first = i * share;
    const last = Math.min(SLOTS, first + share) - 1;
    expectOk(await nodes[i].command('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last)), 'ADDSLOTSRANGE');
  }
  for (const node of nodes.slice(1)) expectOk(await node.command('CLUSTER', 'MEET', '127.0.0.1', String(nodes[0].port), String(busPorts[0])), 'MEET');
  const ready = async (): Promise<void> => {
    const allOk = async (): Promise<boolean> => {
      const infos = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'INFO').catch(() => '')));
      return infos.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`));
    };
    await waitFor(allOk, 10_000, 50).catch(() => {
      throw new Error('the Redis Cluster did not reach cluster_state:ok');
    });
  };
  await ready();
  return { nodes, url: nodes[0].url, ready };
}

function expectOk(reply: string, what: string): void {
  if (!reply.startsWith('+OK')) throw new Error(`CLUSTER ${what}: ${reply.trim()}`);
}
