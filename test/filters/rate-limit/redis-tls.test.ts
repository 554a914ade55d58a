/**
 * The Redis store over TLS (`rediss://`), against real redis-servers whose ports speak only
 * TLS, with a certificate made by openssl at test time (nothing secret is committed): one
 * Redis, and a Redis Cluster whose bus and replication are TLS too. The gateway trusts the
 * certificate through NODE_EXTRA_CA_CERTS, which only a process's start can set, so each
 * gateway runs in a process of its own. Without it the certificate is refused and the fail
 * mode applies: the store never falls back to an unverified connection. With
 * `store.redis.tls` the config names the CA instead, and a client certificate for a Redis
 * that asks for one (`tls-auth-clients yes`, Redis's default).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { selfSignedCertificate } from '../../helpers/certificate.js';
import { writeConfig } from '../../helpers/gateway.js';
import { spawnGateway, type GatewayProcess } from '../../helpers/gateway-process.js';
import { metric, waitFor } from '../../helpers/live.js';
import { startRedisCluster, type TestRedisCluster } from '../../helpers/redis-cluster.js';
import { startRedis, type RedisTls } from '../../helpers/redis.js';
import { rateLimitConfig, send } from '../../helpers/rate-limit.js';
import { tempDir } from '../../helpers/temp-dir.js';

const dir = tempDir('aigw-redis-tls-');
/** A certificate that is its own CA. */
function certificate(name: string, altNames: string): RedisTls {
  const { cert, key } = selfSignedCertificate(dir, { altNames, certFile: `${name}.pem`, keyFile: `${name}.key` });
  return { cert, key, ca: cert };
}
const certs = certificate('any', 'IP:127.0.0.1,DNS:localhost');
/** For the name alone: a client that connects by address is refused. */
const byName = certificate('named', 'DNS:localhost');
/** The gateway's client certificate, for a Redis that asks for one. */
const client = selfSignedCertificate(dir, { altNames: '', certFile: 'client.pem', keyFile: 'client.key' });

/** `server` as a Redis that asks clients for a certificate: it trusts its own and the gateway's. */
function askingForClients(server: RedisTls): RedisTls {
  const ca = path.join(dir, `clients-of-${path.basename(server.cert)}`);
  writeFileSync(ca, Buffer.concat([readFileSync(server.cert), client.pem]));
  return { ...server, ca, authClients: true };
}

/** This process's environment with the test CA as the only extra one, or with none. */
function envTrusting(ca: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  if (ca) env.NODE_EXTRA_CA_CERTS = ca;
  return env;
}

function limitedGateway(t: Test, redis: Record<string, unknown>, ca: string | undefined): Promise<GatewayProcess> {
  const store = { type: 'redis', redis: { fail_mode: 'closed', timeout_ms: 1000, ...redis } };
  const { file } = writeConfig(rateLimitConfig({ rateLimits: { default: { requests_per_minute: 2 } }, store }));
  return spawnGateway(t, file, envTrusting(ca));
}

/** Resolves once the gateway's store has connected (a request is admitted rather than failed closed). */
async function connected(url: string): Promise<void> {
  await waitFor(async () => (await send(url, { user: 'probe' })).status === 200, 15_000, 100);
}

/** Users spread over every master are each limited, and every master holds some counters. */
async function eachMasterServes(t: Test, url: string, cluster: TestRedisCluster, userPrefix: string): Promise<void> {
  await connected(url);
  for (let u = 0; u < 12; u++) {
    const user = `${userPrefix}${u}`;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(url, { user })).status);
    t.same(statuses, [200, 200, 429], `${user}: limited`);
  }
  const holding = await Promise.all(cluster.nodes.map(async (n) => Number(/:(\d+)/.exec(await n.command('DBSIZE'))?.[1])));
  t.ok(holding.every((keys) => keys > 0), `every master holds some users' counters (${holding.join(', ')})`);
}

t.test('one Redis over TLS: limits hold, the keys are in that Redis', async (t) => {
  const redis = await startRedis(t, [], { tls: certs });
  t.match(redis.url, /^rediss:\/\/localhost:/);
  const gw = await limitedGateway(t, { url: redis.url }, certs.ca);
  await connected(gw.url);
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await send(gw.url, { user: 'tls-user' })).status);
  t.same(statuses, [200, 200, 429], 'two admitted at 2 rpm, the third refused');
  t.match(await redis.command('KEYS', '*tls-user*'), /tls-user/, "the user's counters were written over TLS");
  const metrics = await (await fetch(gw.url + '/metrics')).text();
  t.equal(metric(metrics, 'gateway_store_redis_up'), 1, 'connected');
});

t.test('without the CA the certificate is refused: the fail mode applies, nothing is written', async (t) => {
  const redis = await startRedis(t, [], { tls: certs });
  const gw = await limitedGateway(t, { url: redis.url }, undefined);
  // Long enough for several connection attempts (100 ms doubling).
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const reply = await send(gw.url, { user: 'untrusting' });
  t.equal(reply.status, 503, 'fail_mode closed: refused while the store cannot connect');
  const metrics = await (await fetch(gw.url + '/metrics')).text();
  t.equal(metric(metrics, 'gateway_store_redis_up'), 0, 'never connected');
  t.ok(metric(metrics, 'gateway_store_redis_errors_total{reason="unavailable"}') > 0, 'counted as the store unavailable');
  t.equal(await redis.command('DBSIZE'), ':0\r\n', 'nothing reached Redis');
});

t.test('a Redis Cluster over TLS, its nodes known by name and certified for it alone: each master serves its users', async (t) => {
  // The shape of a managed cluster's TLS endpoints: CLUSTER SLOTS names every node, and the
  // certificate is for that name, so the store must keep names rather than resolve them.
  const cluster = await startRedisCluster(t, { tls: byName, hostname: 'localhost' });
  t.match(cluster.url, /^rediss:\/\/localhost:/);
  t.match(await cluster.nodes[0].command('CLUSTER', 'SLOTS'), /localhost/, 'CLUSTER SLOTS names the nodes');
  const gw = await limitedGateway(t, { url: cluster.url, cluster: true }, byName.ca);
  await eachMasterServes(t, gw.url, cluster, 'tls-cu');
  const metrics = await (await fetch(gw.url + '/metrics')).text();
  t.equal(metric(metrics, 'gateway_store_redis_errors_total{reason="error"}'), 0, 'no store errors (no MOVED unfollowed, no handshake refused)');
});

t.test('a Redis that asks for client certificates: refused without one, served with store.redis.tls, which also names the CA', async (t) => {
  const redis = await startRedis(t, [], { tls: askingForClients(certs) });
  // No NODE_EXTRA_CA_CERTS: ca_file alone makes the server's certificate trusted.
  const anonymous = await limitedGateway(t, { url: redis.url, tls: { ca_file: certs.cert } }, undefined);
  const certified = await limitedGateway(t, { url: redis.url, tls: { ca_file: certs.cert, cert_file: client.cert, key_file: client.key } }, undefined);
  await connected(certified.url);
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await send(certified.url, { user: 'mtls-user' })).status);
  t.same(statuses, [200, 200, 429], 'with the certificate: limited as usual');
  t.match(await redis.command('KEYS', '*mtls-user*'), /mtls-user/, "the user's counters were written");

  t.equal((await send(anonymous.url, { user: 'anonymous' })).status, 503, 'without one: fail_mode closed refuses');
  const metrics = await (await fetch(anonymous.url + '/metrics')).text();
  t.equal(metric(metrics, 'gateway_store_redis_up'), 0, 'never connected');
  t.notMatch(await redis.command('KEYS', '*'), /anonymous/, 'nothing of its was written');
});

t.test('a Redis Cluster that asks for client certificates: every node gets the certificate, each master serves its users', async (t) => {
  const cluster = await startRedisCluster(t, { tls: askingForClients(byName), hostname: 'localhost' });
  const gw = await limitedGateway(t, { url: cluster.url, cluster: true, tls: { ca_file: byName.cert, cert_file: client.cert, key_file: client.key } }, undefined);
  await eachMasterServes(t, gw.url, cluster, 'mtls-cu');
});
