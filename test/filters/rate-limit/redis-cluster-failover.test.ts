/**
 * The Redis store through a Redis Cluster failover (three masters, one replica each, on
 * loopback): a master that dies is replaced by its replica, which already holds the
 * counters (replication) and the scripts (the store loads them into every node, replicas
 * too), so its users are served again with their state, with no NOSCRIPT; users on the
 * other masters are served all along (with `cluster-require-full-coverage no`; with Redis's
 * default every node refuses every command until the replica is promoted). Until then, a
 * call on the dead master fails at once rather than waiting out the deadline. A planned
 * failover (CLUSTER FAILOVER) costs nothing.
 */
import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { createLogger } from '../../../core/logger.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { RedisStore } from '../../../core/stores/redis.js';
import type { AtomicScript } from '../../../core/stores/types.js';
import { metric, waitFor } from '../../helpers/live.js';
import { startRedisCluster, type TestRedisCluster } from '../../helpers/redis-cluster.js';
import type { TestRedis } from '../../helpers/redis.js';

/** Counts calls on a key and says which node ran it (its port, from the server's INFO). */
const hit: AtomicScript<[number, string]> = {
  name: 'hit',
  lua: "local n = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], 60000) return { n, string.match(redis.call('INFO', 'server'), 'tcp_port:(%d+)') }",
  local: () => [0, ''],
  parse: (reply) => reply as [number, string],
};

const GROUPS = Array.from({ length: 30 }, (_, i) => `rl:u:user${i}`);

interface LogLine {
  level: string;
  msg: string;
  node?: string;
}

/** A store on `cluster`, with the shipped deadline unless told. */
async function clusterStore(t: Test, cluster: TestRedisCluster, timeoutMs = 250): Promise<{ store: RedisStore; registry: Registry; logs: LogLine[] }> {
  const registry = new Registry();
  const logs: LogLine[] = [];
  const store = new RedisStore({ url: cluster.url, cluster: true, keyPrefix: 'aigw:', failMode: 'closed', timeoutMs, log: createLogger({ sink: (line) => logs.push(JSON.parse(line) as LogLine) }), metrics: createMetricsFactory(registry) });
  t.teardown(() => store.close());
  t.ok(await store.ready(10_000), 'connected to the cluster');
  return { store, registry, logs };
}

const HIT_SHA = createHash('sha1').update(hit.lua).digest('hex');

/** Whether `node`'s script cache holds the script now. */
async function hasScript(node: TestRedis): Promise<boolean> {
  return (await node.command('SCRIPT', 'EXISTS', HIT_SHA)) === '*1\r\n:1\r\n';
}

/** Each group's count on key `key` and the port of the node that ran it; a failure reads as an Error. */
function hitAll(store: RedisStore, key: string): Promise<Array<[number, string] | Error>> {
  return Promise.all(GROUPS.map((g) => store.run(hit, g, [key], []).catch((err: unknown) => err as Error)));
}

/** Resolves once `replica` has applied everything its master wrote (their replication offsets agree). */
async function caughtUp(master: TestRedis, replica: TestRedis): Promise<void> {
  const offset = (info: string, field: string): number => Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1] ?? -1);
  await waitFor(async () => offset(await replica.command('INFO', 'replication'), 'slave_repl_offset') >= offset(await master.command('INFO', 'replication'), 'master_repl_offset'), 5000, 20);
}

t.test('a master dies: its replica takes over with the counters and the scripts, and the other masters never stop', async (t) => {
  const cluster = await startRedisCluster(t, { replicas: 1, fullCoverage: false });
  const { store, registry } = await clusterStore(t, cluster);
  const [dying] = cluster.nodes;
  const [heir] = cluster.replicasOf[0];

  const before = await hitAll(store, 'n');
  t.notOk(before.some((r) => r instanceof Error), 'every group counted once');
  const onDying = GROUPS.filter((_, i) => (before[i] as [number, string])[1] === String(dying.port));
  t.ok(onDying.length > 0 && onDying.length < GROUPS.length, `${onDying.length} of ${GROUPS.length} groups live on the master that will die`);
  await caughtUp(dying, heir);
  // SCRIPT LOAD is not replicated: the store put it there itself. (After a failure ioredis
  // may also rebuild its connection to the replica, which loads the scripts again.)
  t.ok(await hasScript(heir), 'the replica holds the script before any failover');

  await dying.kill();
  const killedAt = performance.now();
  // Probe on a key of its own in each group (same slot), so the counters under test are not
  // touched by probes that time out here and still run later.
  let othersFailed = 0;
  let rounds = 0;
  const served = await waitFor(async () => {
    rounds++;
    const probe = await hitAll(store, 'probe');
    othersFailed += probe.filter((r, i) => r instanceof Error && !onDying.includes(GROUPS[i])).length;
    return probe.every((r) => !(r instanceof Error)) ? probe : undefined;
  }, 20_000, 50);
  const outageMs = Math.round(performance.now() - killedAt);
  t.equal(othersFailed, 0, `the groups on the other masters were served in all ${rounds} rounds`);
  t.ok(served.every((r, i) => !onDying.includes(GROUPS[i]) || (r as [number, string])[1] === String(heir.port)), `the dying master's groups are served by its replica, ${outageMs} ms after the kill`);

  const after = await hitAll(store, 'n');
  t.same(after.map((r) => (r as [number, string])[0]), GROUPS.map(() => 2), 'every counter carried on from where it was: the replica had it');
  const metrics = await registry.metrics();
  t.equal(metric(metrics, 'gateway_store_redis_errors_total{reason="noscript"}'), 0, 'the promoted replica had the script before it was promoted');
  t.ok(metric(metrics, 'gateway_store_redis_errors_total{reason="timeout"}') + metric(metrics, 'gateway_store_redis_errors_total{reason="error"}') > 0, 'the outage was counted as store errors (the fail mode applied)');
});

t.test('while a dead master has no successor, its users get the fail mode at once, not at the deadline', async (t) => {
  const cluster = await startRedisCluster(t, { replicas: 1, fullCoverage: false });
  // A long deadline, so a call that waits for it cannot pass for one that failed fast.
  const timeoutMs = 2000;
  const { store } = await clusterStore(t, cluster, timeoutMs);
  const [dying] = cluster.nodes;
  const [heir] = cluster.replicasOf[0];
  const before = await hitAll(store, 'n');
  t.notOk(before.some((r) => r instanceof Error), 'every group served at first');
  const onDying = GROUPS.filter((_, i) => (before[i] as [number, string])[1] === String(dying.port));
  // Held back, the replica leaves the slots without a master for as long as the test needs.
  t.match(await heir.command('CONFIG', 'SET', 'cluster-replica-no-failover', 'yes'), /^\+OK/, 'the replica will not take over yet');

  await dying.kill();
  const took: number[] = [];
  let othersFailed = 0;
  for (let round = 0; round < 5; round++) {
    const results = await Promise.all(
      GROUPS.map(async (g) => {
        const start = performance.now();
        const result = await store.run(hit, g, ['probe'], []).catch((err: unknown) => err as Error);
        if (onDying.includes(g)) took.push(performance.now() - start);
        return result;
      }),
    );
    othersFailed += results.filter((r, i) => r instanceof Error && !onDying.includes(GROUPS[i])).length;
    t.ok(onDying.every((g) => results[GROUPS.indexOf(g)] instanceof Error), `round ${round}: every call on the dead master failed`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  took.sort((a, b) => a - b);
  const median = took[took.length >> 1];
  const slowest = took[took.length - 1];
  t.ok(slowest < timeoutMs / 4, `each failed in ${median.toFixed(1)} ms (median), ${slowest.toFixed(1)} ms at most: none waited for the ${timeoutMs} ms deadline`);
  t.equal(othersFailed, 0, 'the other masters served throughout');

  await heir.command('CONFIG', 'SET', 'cluster-replica-no-failover', 'no');
  const served = await waitFor(async () => {
    const probe = await hitAll(store, 'probe');
    return probe.every((r) => !(r instanceof Error)) ? probe : undefined;
  }, 20_000, 50);
  t.ok(served.every((r, i) => !onDying.includes(GROUPS[i]) || (r as [number, string])[1] === String(heir.port)), 'once the replica takes over, its users are served by it');
});

t.test('a planned failover (CLUSTER FAILOVER) under steady traffic fails no call', async (t) => {
  const cluster = await startRedisCluster(t, { replicas: 1 });
  const { store, registry } = await clusterStore(t, cluster);
  const [master] = cluster.nodes;
  const [replica] = cluster.replicasOf[0];

  let calls = 0;
  const failures: string[] = [];
  let stop = false;
  const traffic = (async () => {
    while (!stop) {
      for (const r of await hitAll(store, 'n')) if (r instanceof Error) failures.push(r.message);
      calls += GROUPS.length;
    }
  })();
  await waitFor(() => calls >= 10 * GROUPS.length, 5000, 5);
  t.ok(await hasScript(replica), 'the replica holds the script before the failover');
  t.match(await replica.command('CLUSTER', 'FAILOVER'), /^\+OK/, 'the replica accepted the failover');
  await waitFor(async () => (await replica.command('ROLE')).includes('master'), 10_000, 20);
  await waitFor(async () => (await master.command('ROLE')).includes('slave'), 10_000, 20);
  const switched = calls;
  await waitFor(() => calls >= switched + 10 * GROUPS.length, 5000, 5);
  stop = true;
  await traffic;

  t.same(failures, [], `none of ${calls} calls failed across the switch`);
  const owners = new Set((await hitAll(store, 'n')).map((r) => (r as [number, string])[1]));
  t.ok(owners.has(String(replica.port)) && !owners.has(String(master.port)), 'the former replica now serves the slots; the former master none');
  t.equal(metric(await registry.metrics(), 'gateway_store_redis_errors_total{reason="noscript"}'), 0, 'no NOSCRIPT on the new master');
});

t.test('each master that fails is logged once, however long its outage; a later failure of another is logged too, and a return', async (t) => {
  const cluster = await startRedisCluster(t, { replicas: 1, fullCoverage: false });
  const { store, logs } = await clusterStore(t, cluster);
  const warnings = (): LogLine[] => logs.filter((l) => l.level === 'warn');
  const servedAgain = (): Promise<unknown> => waitFor(async () => (await hitAll(store, 'n')).every((r) => !(r instanceof Error)), 20_000, 50);
  t.notOk((await hitAll(store, 'n')).some((r) => r instanceof Error), 'served');

  await cluster.nodes[0].kill();
  await servedAgain();
  const first = warnings();
  t.equal(first.length, 1, `one warning for the first failure, not one per failed call (${first.map((l) => l.msg).join('; ')})`);
  t.match(first[0]?.node, `:${cluster.nodes[0].port}`, 'it names the node');

  await cluster.nodes[1].kill();
  await servedAgain();
  const second = warnings().slice(first.length);
  t.equal(second.length, 1, 'one warning for the second master, though the cluster client stayed ready throughout');
  t.match(second[0]?.node, `:${cluster.nodes[1].port}`, 'it names that node');

  // The first comes back (as a replica of its heir): the store learns of it from the slot
  // map, loads the scripts into it, and says so.
  await cluster.nodes[0].restart();
  const back = await waitFor(() => logs.find((l) => l.msg === 'redis cluster node answers again'), 20_000, 50);
  t.match(back.node, `:${cluster.nodes[0].port}`, 'its return is logged');
  t.ok(await waitFor(() => hasScript(cluster.nodes[0]), 5000, 50), 'with the script loaded into it again');
});
