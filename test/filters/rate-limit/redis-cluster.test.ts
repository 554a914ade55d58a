/**
 * The Redis store on a real Redis Cluster (three masters on loopback, `store.redis.cluster`):
 * each group's scripts go to the node that owns its slot, every node has the scripts before
 * their first call, limits hold per user across the nodes, and a master restarted empty is
 * served again once it is back.
 */
import t from 'tap';
import { Registry } from 'prom-client';
import { createLogger } from '../../../core/logger.js';
import { createMetricsFactory } from '../../../core/metrics-factory.js';
import { RedisStore } from '../../../core/stores/redis.js';
import type { AtomicScript } from '../../../core/stores/types.js';
import { startGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/live.js';
import { startRedisCluster } from '../../helpers/redis-cluster.js';
import { rateLimitConfig, send } from '../../helpers/rate-limit.js';

/** Counts calls per key and says which node ran it (its port, from the server's INFO). */
const hit: AtomicScript<[number, string]> = {
  name: 'hit',
  lua: "local n = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], 60000) return { n, string.match(redis.call('INFO', 'server'), 'tcp_port:(%d+)') }",
  local: () => [0, ''],
  parse: (reply) => reply as [number, string],
};

t.test('the store on a Redis Cluster: each group on its slot\'s node, scripts loaded into every node', async (t) => {
  const cluster = await startRedisCluster(t);
  const registry = new Registry();
  const lines: Array<{ msg: string }> = [];
  const store = new RedisStore({ url: cluster.url, cluster: true, keyPrefix: 'aigw:', failMode: 'closed', timeoutMs: 2000, log: createLogger({ sink: (line) => lines.push(JSON.parse(line) as { msg: string }) }), metrics: createMetricsFactory(registry) });
  t.teardown(() => store.close());
  t.ok(await store.ready(10_000), 'connected to the cluster');

  const groups = Array.from({ length: 30 }, (_, i) => `rl:u:user${i}`);
  const first = await Promise.all(groups.map((g) => store.run(hit, g, ['n'], [])));
  const second = await Promise.all(groups.map((g) => store.run(hit, g, ['n'], [])));
  t.same(first.map(([n]) => n), groups.map(() => 1), 'one count per group');
  t.same(second.map(([n]) => n), groups.map(() => 2), 'and the next call finds it');
  const ports = new Set(first.map(([, port]) => port));
  t.same([...ports].sort(), cluster.nodes.map((n) => String(n.port)).sort(), 'the groups spread over all three masters');
  for (const node of cluster.nodes) {
    const keys = Number(/:(\d+)/.exec(await node.command('DBSIZE'))?.[1]);
    t.ok(keys > 0, `node ${node.port} holds ${keys} of the 30 keys`);
  }
  t.same(second.map(([, port]) => port), first.map(([, port]) => port), 'a group stays on its node');
  t.notMatch(await registry.metrics(), /reason="noscript"/, 'every node had the script before its first EVALSHA');
  t.notMatch(await registry.metrics(), /reason="error"/, 'no errors (no MOVED left unfollowed)');
  t.equal(lines.filter((l) => /could not load/.test(l.msg)).length, 0);
});

t.test('rate limits on a Redis Cluster through the gateway; a master restarted empty is served again', async (t) => {
  const cluster = await startRedisCluster(t);
  const store = { type: 'redis', redis: { url: cluster.url, cluster: true, fail_mode: 'open', timeout_ms: 1000 } };
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { default: { requests_per_minute: 2 } }, store }));
  const users = Array.from({ length: 12 }, (_, i) => `cu${i}`);
  for (const user of users) {
    t.equal((await send(gw.url, { user })).status, 200, `${user}: 1 of 2`);
    t.equal((await send(gw.url, { user })).status, 200, `${user}: 2 of 2`);
    t.equal((await send(gw.url, { user })).status, 429, `${user}: over`);
  }
  const holding = await Promise.all(cluster.nodes.map(async (n) => Number(/:(\d+)/.exec(await n.command('DBSIZE'))?.[1])));
  t.ok(holding.every((keys) => keys > 0), `every master holds some users' counters (${holding.join(', ')})`);

  // Restart the first master empty: its users' counters are gone, the others' are not.
  const restarted = cluster.nodes[0];
  await restarted.restart();
  await cluster.ready();
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'after-restart' }).catch(() => undefined))?.status === 200, 20_000, 100), 'served after the restart');
  const stillLimited = await Promise.all(users.map(async (user) => (await send(gw.url, { user })).status));
  t.ok(stillLimited.includes(429), 'users on the other masters are still over their limit');
  t.ok(stillLimited.includes(200), "users on the restarted master start afresh (its counters went with it)");
  const metrics = await (await fetch(gw.url + '/metrics')).text();
  t.notMatch(metrics, /gateway_store_redis_errors_total\{reason="noscript"\}/, 'the restarted master got the scripts when it reconnected');
  for (const user of users) {
    // Whatever each user's state, the limit holds again: at most two more admitted.
    let admitted = 0;
    for (let i = 0; i < 3; i++) if ((await send(gw.url, { user })).status === 200) admitted++;
    t.ok(admitted <= 2, `${user}: limited again (${admitted} admitted)`);
  }
});
