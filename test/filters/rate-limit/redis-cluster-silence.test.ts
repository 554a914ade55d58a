/**
 * A Redis Cluster node's connection that the network silently dropped (no reset: a node's
 * host replaced, a NAT that forgot the flow). Three real masters, each announced at a TCP
 * relay in front of it (`cluster-announce-port`), so the store reaches every node through
 * one and the test can blackhole one node's open flows. Before, each call on that node's
 * slots waited out the deadline for as long as the kernel kept the flow (many minutes); now
 * the node's connection is found silent by a probe and dropped, and ioredis connects anew.
 */
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { createLogger } from '../../../core/logger.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { RedisStore } from '../../../core/stores/redis.js';
import type { AtomicScript } from '../../../core/stores/types.js';
import { waitFor } from '../../helpers/live.js';
import { startRedisCluster } from '../../helpers/redis-cluster.js';
import type { TestRedis } from '../../helpers/redis.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';

/** The port of the node that ran it (the server's own, not the relay's). */
const whereRun: AtomicScript<string> = {
  name: 'where',
  lua: "redis.call('SET', KEYS[1], 1, 'PX', 60000) return string.match(redis.call('INFO', 'server'), 'tcp_port:(%d+)')",
  local: () => '',
  parse: (reply) => String(reply),
};

const GROUPS = Array.from({ length: 24 }, (_, i) => `rl:u:user${i}`);

function runAll(store: RedisStore): Promise<Array<string | Error>> {
  return Promise.all(GROUPS.map((g) => store.run(whereRun, g, ['w'], []).catch((err: unknown) => err as Error)));
}

/** Every master announced at a relay of its own; resolves once the cluster's slot map names the relays. */
async function behindRelays(t: Test): Promise<{ proxies: TcpProxy[]; nodes: readonly TestRedis[]; ports: number[]; url: string }> {
  const cluster = await startRedisCluster(t, { masters: 3 });
  const proxies: TcpProxy[] = [];
  for (const node of cluster.nodes) {
    const proxy = await startTcpProxy(t, node.port);
    t.match(await node.command('CONFIG', 'SET', 'cluster-announce-port', String(proxy.port)), /^\+OK/);
    proxies.push(proxy);
  }
  const first = cluster.nodes[0];
  await waitFor(async () => {
    const slots = await first.command('CLUSTER', 'SLOTS');
    return proxies.every((p) => slots.includes(`:${p.port}\r\n`));
  }, 10_000, 50);
  return { proxies, nodes: cluster.nodes, ports: cluster.nodes.map((n) => n.port), url: `redis://127.0.0.1:${proxies[0].port}` };
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
