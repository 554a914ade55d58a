/**
 * A Redis Cluster master whose host no longer answers at all: connection attempts to it are
 * neither accepted nor refused (a powered-off host, an address gone), which on loopback a
 * relay whose port a full-backlog listener holds plays (test/helpers/unanswered-port.ts).
 * Before, ioredis made a new client for the node on each call's MOVED and queued the call on
 * it while it connected, so every call on its slots waited out the whole deadline until the
 * host returned or its replica was promoted. Now the store holds the node once a connection
 * to it cannot be made in time (core/stores/redis-unreachable.ts): its users get the fail mode
 * at once, counted `unavailable` rather than `timeout`, until a probe reaches it again or the
 * slot map names its successor. The other masters' users are served throughout.
 */
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { createLogger } from '../../../core/logger.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { RedisStore } from '../../../core/stores/redis.js';
import { metric, waitFor } from '../../helpers/live.js';
import { runEverywhere, startRelayedCluster } from '../../helpers/redis-cluster.js';

const GROUPS = Array.from({ length: 24 }, (_, i) => `rl:u:user${i}`);
const TIMEOUT_MS = 300;

/** Each group's call: the port of the node that ran it, or the Error it failed with. */
const runAll = (store: RedisStore): Promise<Array<string | Error>> => runEverywhere(store, GROUPS);

const heldBack = (r: string | Error): boolean => r instanceof Error && /cannot be reached/.test(r.message);

async function storeOn(t: Test, url: string): Promise<{ store: RedisStore; registry: Registry; logs: Array<{ msg: string }> }> {
  const registry = new Registry();
  const logs: Array<{ msg: string }> = [];
  const store = new RedisStore({ url, cluster: true, keyPrefix: 'cu:', failMode: 'closed', timeoutMs: TIMEOUT_MS, log: createLogger({ sink: (line) => logs.push(JSON.parse(line) as { msg: string }) }), metrics: createMetricsFactory(registry) });
  t.teardown(() => store.close());
  t.ok(await store.ready(10_000), 'connected');
  return { store, registry, logs };
}

/** Rounds of calls while the node is held: its users fail at once, nobody waits out the deadline, the others are served. */
async function whileHeld(t: Test, store: RedisStore, registry: Registry, onHeld: readonly string[]): Promise<void> {
  const count = async (reason: string): Promise<number> => metric(await registry.metrics(), `gateway_store_redis_errors_total{reason="${reason}"}`);
  const timeouts = await count('timeout');
  const unavailable = await count('unavailable');
  const rounds = 5;
  let asExpected = 0;
  for (let round = 0; round < rounds; round++) {
    const results = await runAll(store);
    if (GROUPS.every((g, i) => (onHeld.includes(g) ? heldBack(results[i]) : !(results[i] instanceof Error)))) asExpected++;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.equal(asExpected, rounds, `in each of ${rounds} rounds its ${onHeld.length} groups were held back and the others served`);
  t.equal((await count('timeout')) - timeouts, 0, 'no call waited out the deadline');
  t.equal((await count('unavailable')) - unavailable, rounds * onHeld.length, 'each held-back call counted unavailable');
}

t.test('a master\'s connection closes and its host leaves new ones unanswered: after the first wait, its users fail at once until it answers again', async (t) => {
  const cluster = await startRelayedCluster(t, { masters: 3 });
  const { store, registry, logs } = await storeOn(t, cluster.url);
  const lost = 1;
  const port = String(cluster.nodes[lost].port);
  const before = await runAll(store);
  t.notOk(before.some((r) => r instanceof Error), 'every group served, through the relays');
  const onLost = GROUPS.filter((_, i) => before[i] === port);
  t.ok(onLost.length > 0 && onLost.length < GROUPS.length, `${onLost.length} of ${GROUPS.length} groups live on the master that will be lost`);

  await cluster.relays[lost].leaveNewUnanswered();
  // Redis closes the store's connection (through the relay): the next call's new one hangs.
  t.match(await cluster.nodes[lost].command('CLIENT', 'KILL', 'TYPE', 'normal'), /^:[1-9]/, 'the store\'s connection closed');
  const first = await runAll(store);
  t.ok(onLost.every((g) => first[GROUPS.indexOf(g)] instanceof Error), 'its groups\' first calls fail (they waited on a connection that never came)');
  await waitFor(async () => (await runAll(store)).some(heldBack), 5000, 20);
  await whileHeld(t, store, registry, onLost);

  const accepted = cluster.relays[lost].accepted;
  await cluster.relays[lost].acceptNew();
  const served = await waitFor(async () => {
    const now = await runAll(store);
    return now.every((r) => !(r instanceof Error)) ? now : undefined;
  }, 10_000, 50);
  t.ok(onLost.every((g) => served[GROUPS.indexOf(g)] === port), 'served again by the same master once it answers');
  t.ok(cluster.relays[lost].accepted > accepted, 'through a new connection');
  t.ok(logs.some((l) => l.msg === 'redis cluster node answers again'), 'its return logged');
});

t.test('a master\'s host dies and leaves every flow silent: its users fail at once until the replica takes over, then are served by it', async (t) => {
  const cluster = await startRelayedCluster(t, { masters: 3, replicas: 1, fullCoverage: false });
  const { store, registry, logs } = await storeOn(t, cluster.url);
  const dying = 1;
  const [heir] = cluster.replicasOf[dying];
  const before = await runAll(store);
  t.notOk(before.some((r) => r instanceof Error), 'every group served');
  const onDying = GROUPS.filter((_, i) => before[i] === String(cluster.nodes[dying].port));
  t.ok(onDying.length > 0, `${onDying.length} groups live on the master that will die`);
  // Held back, the replica leaves the slots without a master for as long as the test needs.
  t.match(await heir.command('CONFIG', 'SET', 'cluster-replica-no-failover', 'yes'), /^\+OK/, 'the replica will not take over yet');

  cluster.relays[dying].blackholeOpen();
  await cluster.relays[dying].leaveNewUnanswered();
  await cluster.nodes[dying].kill();
  // The open connection is silent: calls wait out the deadline until the probe finds the host gone.
  await waitFor(async () => (await runAll(store)).some(heldBack), 10_000, 20);
  t.ok(logs.some((l) => l.msg.startsWith('redis cluster node connection stopped answering and the node cannot be reached')), 'the silent connection was dropped, its host found unreachable');
  await whileHeld(t, store, registry, onDying);

  t.match(await heir.command('CONFIG', 'SET', 'cluster-replica-no-failover', 'no'), /^\+OK/);
  const served = await waitFor(async () => {
    const now = await runAll(store);
    return now.every((r) => !(r instanceof Error)) ? now : undefined;
  }, 20_000, 50);
  t.ok(onDying.every((g) => served[GROUPS.indexOf(g)] === String(heir.port)), 'once the replica takes over, its users are served by it (the slot map read again)');
});
