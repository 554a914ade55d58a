/**
 * The Redis store's client choice (core/stores/redis-client.ts): a cluster URL read into the
 * seed node's address and credentials, and the options each kind of client is made with.
 * Clients are lazy: nothing here connects.
 */
import t from 'tap';
import ioredis from 'ioredis';
import { clusterSeed, clusterUrlProblem, createRedisClient, hostAndPort, isCluster, scriptHosts } from '../../core/stores/redis-client.js';

t.test('a cluster URL is read into its seed node', async (t) => {
  t.same(clusterSeed('redis://redis-0:7000'), { host: 'redis-0', port: 7000, username: undefined, password: undefined, tls: undefined });
  t.same(clusterSeed('rediss://app:p%40ss%3Aw@cfg.example.internal/0'), { host: 'cfg.example.internal', port: 6379, username: 'app', password: 'p@ss:w', tls: {} }, 'credentials decoded, TLS from rediss, 6379 by default');
  t.same(clusterSeed('redis://:only-pw@[::1]:6380/'), { host: '::1', port: 6380, username: undefined, password: 'only-pw', tls: undefined }, 'an IPv6 literal without brackets');
  t.equal(clusterUrlProblem('redis://r:6379'), undefined);
  t.match(clusterUrlProblem('redis://r:6379/2'), /only database 0: drop "\/2"/);
  t.throws(() => clusterSeed('redis://r:6379/2'), /store\.redis\.url: Redis Cluster has only database 0/);
});

t.test('the client each setting makes', async (t) => {
  const single = createRedisClient(ioredis, { url: 'redis://127.0.0.1:1/3', cluster: false, timeoutMs: 250 });
  t.teardown(() => single.disconnect());
  if (isCluster(single)) return t.fail('a single-node client');
  t.equal(single.options.db, 3, 'a single Redis may use another database');
  t.equal(single.options.enableOfflineQueue, false);
  t.equal(single.options.connectTimeout, 1000, 'at least a second to connect');
  t.same(scriptHosts(single), [single]);
  t.ok(single.options.reconnectOnError?.(new Error("READONLY You can't write against a read only replica.")), 'a demoted primary is left for a new connection');
  t.notOk(single.options.reconnectOnError?.(new Error('ERR wrong number of arguments')), 'other errors are not');
  t.equal(single.options.sentinels, null, 'no sentinels');
  t.equal(single.options.protocol, 2, 'RESP2: ioredis 6 would say HELLO 3');

  const sentinel = createRedisClient(ioredis, { url: 'redis://:pw@ignored:1/2', cluster: false, timeoutMs: 250, sentinel: { master: 'mymaster', nodes: ['s-0:26379', '[::1]:26380'], password: 'sp' } });
  t.teardown(() => sentinel.disconnect());
  if (isCluster(sentinel)) return t.fail('a single-node client');
  t.match(sentinel.options, { name: 'mymaster', sentinels: [{ host: 's-0', port: 26379 }, { host: '::1', port: 26380 }], sentinelPassword: 'sp', password: 'pw', db: 2, failoverDetector: false, enableOfflineQueue: false, protocol: 2 }, 'the sentinels name the primary; the url gives its password and database; the store follows their announcements itself');
  t.equal(typeof sentinel.options.sentinelRetryStrategy, 'function', 'no sentinel answering: tried again, as a lost primary is');
  t.equal(sentinel.options.enableTLSForSentinelMode, false, 'no TLS over redis://');

  const sentinelTls = createRedisClient(ioredis, { url: 'rediss://ignored:1', cluster: false, timeoutMs: 250, tls: { ca: Buffer.from('CA PEM') }, sentinel: { master: 'm', nodes: ['s:26379'] } });
  t.teardown(() => sentinelTls.disconnect());
  t.match(sentinelTls.options, { enableTLSForSentinelMode: true, tls: { ca: Buffer.from('CA PEM') }, sentinelTLS: { ca: Buffer.from('CA PEM') } }, 'over rediss://, the sentinels and the primary with the same TLS settings');

  const plain = createRedisClient(ioredis, { url: 'redis://user:pw@127.0.0.1:1', cluster: true, timeoutMs: 5000 });
  t.teardown(() => plain.disconnect());
  t.ok(isCluster(plain));
  if (!isCluster(plain)) return;
  // An unreachable master fails a call at once; a node still connecting holds it (the
  // failover test shows both against a real cluster).
  t.match(plain.options, { retryDelayOnFailover: 0, retryDelayOnClusterDown: 0, enableOfflineQueue: true });
  t.match(plain.options.redisOptions, { username: 'user', password: 'pw', connectTimeout: 5000, maxRetriesPerRequest: 0, protocol: 2 }, 'every node gets the seed\'s credentials, and RESP2');
  t.equal(plain.options.redisOptions?.tls, undefined);
  t.same(scriptHosts(plain), [], 'no nodes before it connects');

  const tls = createRedisClient(ioredis, { url: 'rediss://cfg.example.internal:6379', cluster: true, timeoutMs: 250 });
  t.teardown(() => tls.disconnect());
  if (!isCluster(tls)) return t.fail('a cluster client');
  t.same(tls.options.redisOptions?.tls, {});
  const looked = await new Promise<string>((resolve) => tls.options.dnsLookup?.('cfg.example.internal', (_err, address) => resolve(address)));
  t.equal(looked, 'cfg.example.internal', 'over TLS the seed keeps its name (its certificate names it)');
  t.not(plain.options.dnsLookup?.toString(), tls.options.dnsLookup?.toString(), 'without TLS, ioredis resolves names itself');
});

t.test('a sentinel address', async (t) => {
  t.same(hostAndPort('sentinel-0.redis-headless:26379'), { host: 'sentinel-0.redis-headless', port: 26379 });
  t.same(hostAndPort('10.0.0.7:5000'), { host: '10.0.0.7', port: 5000 });
  t.same(hostAndPort('[fd00::7]:26379'), { host: 'fd00::7', port: 26379 });
});
