/**
 * A Redis Cluster node's connection that the network silently dropped (no reset: a node's
 * host replaced, a NAT that forgot the flow). Three real masters, each announced at a TCP
 * relay in front of it (`cluster-announce-port`, test/helpers/redis-cluster.ts), so the store
 * reaches every node through one and the test can blackhole one node's open flows. Before,
 * each call on that node's slots waited out the deadline for as long as the kernel kept the
 * flow (many minutes); now the node's connection is found silent by a probe and dropped, and
 * ioredis connects anew.
 */
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { createLogger } from '../../../core/logger.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { RedisStore } from '../../../core/stores/redis.js';
import { waitFor } from '../../helpers/live.js';
import { runEverywhere, startRelayedCluster } from '../../helpers/redis-cluster.js';
import type { TestRedis } from '../../helpers/redis.js';
import type { TcpProxy } from '../../helpers/tcp-proxy.js';

const GROUPS = Array.from({ length: 24 }, (_, i) => `rl:u:user${i}`);

/** Each group's call: the port of the node that ran it, or the Error it failed with. */
const runAll = (store: RedisStore): Promise<Array<string | Error>> => runEverywhere(store, GROUPS);

/** Three masters, each behind a relay of its own; `ports` are the servers' own. */
async function behindRelays(t: Test): Promise<{ proxies: readonly TcpProxy[]; nodes: readonly TestRedis[]; ports: number[]; url: string }> {
  const cluster = await startRelayedCluster(t, { masters: 3 });
  return { proxies: cluster.relays, nodes: cluster.nodes, ports: cluster.nodes.map((n) => n.port), url: cluster.url };
}

t.test('one master\'s flow dropped without a reset: found by a probe, dropped, connected anew', async (t) => {
  const { proxies, ports, url } = await behindRelays(t);
  const registry = new Registry();
  const logs: Array<{ msg: string; node?: string }> = [];
  const store = new RedisStore({ url, cluster: true, keyPrefix: 'cs:', failMode: 'closed', timeoutMs: 300, log: createLogger({ sink: (line) => logs.push(JSON.parse(line) as { msg: string }) }), metrics: createMetricsFactory(registry) });
  t.teardown(() => store.close());
  t.ok(await store.ready(10_000), 'connected');

  const before = await runAll(store);
  t.notOk(before.some((r) => r instanceof Error), 'every group served, through the relays');
  const silent = 1;
  const onSilent = GROUPS.filter((_, i) => before[i] === String(ports[silent]));
  t.ok(onSilent.length > 0 && onSilent.length < GROUPS.length, `${onSilent.length} of ${GROUPS.length} groups live on the master whose flow will drop`);
  const accepted = proxies[silent].accepted;

  proxies[silent].blackholeOpen();
  const during = await runAll(store);
  t.ok(
    GROUPS.every((g, i) => (onSilent.includes(g) ? during[i] instanceof Error : !(during[i] instanceof Error))),
    'its groups wait out the deadline; the other masters serve',
  );
  // Before: its groups timed out on every round for as long as the kernel kept the flow.
  const served = await waitFor(async () => {
    const now = await runAll(store);
    return now.every((r) => !(r instanceof Error)) ? now : undefined;
  }, 10_000, 50);
  t.ok(onSilent.every((g) => served[GROUPS.indexOf(g)] === String(ports[silent])), 'served again by the same master');
  t.ok(proxies[silent].accepted >= accepted + 2, `a probe and a new connection through its relay (${proxies[silent].accepted - accepted})`);
  t.ok(logs.some((l) => l.msg.startsWith('redis cluster node connection stopped answering while the node answers a new connection') && l.node === `127.0.0.1:${proxies[silent].port}`), 'logged, naming the node');
  t.ok(logs.some((l) => l.msg === 'redis cluster node answers again'), 'and its return');
});

t.test('a stalled master keeps its connection: the probe connects but is not answered', async (t) => {
  const { proxies, nodes, ports, url } = await behindRelays(t);
  const logs: Array<{ msg: string }> = [];
  const store = new RedisStore({ url, cluster: true, keyPrefix: 'cs:', failMode: 'closed', timeoutMs: 300, log: createLogger({ sink: (line) => logs.push(JSON.parse(line) as { msg: string }) }), metrics: createMetricsFactory(new Registry()) });
  t.teardown(() => store.close());
  t.ok(await store.ready(10_000), 'connected');
  const before = await runAll(store);
  const stalled = 2;
  const onStalled = GROUPS.filter((_, i) => before[i] === String(ports[stalled]));
  const accepted = proxies[stalled].accepted;
  // Longer than the call's deadline plus the probe's (a second): the probe gives up on its own.
  t.match(await nodes[stalled].command('CLIENT', 'PAUSE', '1800', 'ALL'), /^\+OK/);
  const during = await runAll(store);
  t.ok(onStalled.every((g) => during[GROUPS.indexOf(g)] instanceof Error), 'its groups get the fail mode during the stall');
  await new Promise((resolve) => setTimeout(resolve, 2200));
  const after = await runAll(store);
  t.notOk(after.some((r) => r instanceof Error), 'every group served after it');
  t.equal(proxies[stalled].accepted, accepted + 1, 'one probe, and the same connection kept');
  t.notOk(logs.some((l) => l.msg.startsWith('redis cluster node connection stopped answering')), 'nothing dropped');
});
