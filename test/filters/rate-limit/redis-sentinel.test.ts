/**
 * `store.redis.sentinel` against a real Redis Sentinel deployment on loopback (a primary, a
 * replica, one sentinel): the store connects to the primary the sentinel names, counts there,
 * and after the primary is killed follows the sentinel to the promoted replica by itself,
 * also when the promotion is announced while it is still asking the sentinel; and it follows
 * the sentinels' +switch-master announcements that move its own primary, and no others.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/live.js';
import { startSentinelGroup, type TestSentinelGroup } from '../../helpers/redis-sentinel.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { rateLimitConfig, send } from '../../helpers/rate-limit.js';
import { selfSignedCertificate } from '../../helpers/certificate.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { startTcpProxy } from '../../helpers/tcp-proxy.js';

function config(sentinel: Record<string, unknown>, requestsPerMinute: number, overTls: Record<string, unknown> = {}): string {
  // The url's host and port are not used with sentinel: a port nothing listens on proves it.
  const store = { type: 'redis', redis: { url: 'redis://127.0.0.1:1', sentinel, key_prefix: 'st:', fail_mode: 'closed', timeout_ms: 300, ...overTls } };
  return rateLimitConfig({ rateLimits: { default: { requests_per_minute: requestsPerMinute } }, store });
}

/** The primaries the store logged it was following a sentinel's announcement to. */
function followedTo(logs: ReadonlyArray<Record<string, unknown>>): unknown[] {
  return logs.filter((l) => String(l.msg).startsWith('redis store following a sentinel failover')).map((l) => l.primary);
}

/** How many EVALSHA calls `redis` has run: the store's scripts reaching it. */
async function evalshaCalls(redis: TestRedis): Promise<number> {
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.command('INFO', 'commandstats'))?.[1] ?? 0);
}

/** Until the store has subscribed to `+switch-master` on the sentinel `group` runs. */
async function listenedTo(group: TestSentinelGroup): Promise<void> {
  await waitFor(async () => /cmd=subscribe/.test(await group.ask('CLIENT', 'LIST')), 5000, 20);
}

/** Until the store has subscribed to `+switch-master` on `announcer`, a plain Redis standing in for a sentinel. */
async function announcerHeard(announcer: TestRedis): Promise<void> {
  await waitFor(async () => (await announcer.command('PUBSUB', 'NUMSUB', '+switch-master')).endsWith(':1\r\n'), 5000, 20);
}

t.test('the primary the sentinel names, and after it is killed, the replica the sentinel promotes', async (t) => {
  const group = await startSentinelGroup(t);
  const gw = await startGateway(t, config({ master: group.master, nodes: [group.sentinel] }, 3), { watch: false });
  t.equal((await send(gw.url, { user: 's' })).status, 200, 'served through the sentinel\'s primary');
  t.match(await group.primary.command('KEYS', 'st:*'), /st:\{rl:u:s\}/, 'counted on the primary');

  await group.primary.kill();
  // Until the sentinel promotes the replica (~1 s to mark the primary down, then the election),
  // fail closed refuses; then the store reconnects to the new primary, asking the sentinel, at
  // once when the promotion is announced.
  const killedAt = performance.now();
  await waitFor(async () => (await group.primaryPort()) === group.replica.port, 20_000, 100);
  const promotedAt = performance.now();
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'after' })).status === 200, 10_000, 50), 'served again, by the promoted replica');
  t.comment(`promoted ${Math.round(promotedAt - killedAt)} ms after the kill; served ${Math.round(performance.now() - promotedAt)} ms after the promotion`);
  t.match(await group.replica.command('KEYS', 'st:*'), /st:\{rl:u:after\}/, 'counting there');
  t.same([(await send(gw.url, { user: 'after' })).status, (await send(gw.url, { user: 'after' })).status, (await send(gw.url, { user: 'after' })).status], [200, 200, 429], 'and limits hold');
  t.ok(gw.logs.some((l) => l.msg === 'redis store reconnected'), 'the recovery is logged');
  // The sentinel names the promoted replica before it announces the switch: a store already
  // there by then is left there (it used to be dropped again, and requests refused).
  t.notOk(followedTo(gw.logs).length, 'the announcement, heard once on the new primary or while connecting, is not followed again');
});

t.test('announcements that leave the primary where it is leave the connection; one that moves it is followed', async (t) => {
  // A plain Redis as a second sentinel that only announces: the test publishes on its
  // +switch-master channel what a sentinel would. The real sentinel, first, names the primary.
  const group = await startSentinelGroup(t);
  const announcer = await startRedis(t);
  const gw = await startGateway(t, config({ master: group.master, nodes: [group.sentinel, `127.0.0.1:${announcer.port}`] }, 100_000), { watch: false });
  t.equal((await send(gw.url, { user: 'n' })).status, 200);
  await announcerHeard(announcer);
  const announce = (master: string, port: number): Promise<string> => announcer.command('PUBLISH', '+switch-master', `${master} 127.0.0.1 1 127.0.0.1 ${port}`);

  // Read in order on the one subscription: by the time the last is followed, the others were read.
  await announce('another-group', group.replica.port);
  await announce(group.master, group.primary.port);
  t.equal((await send(gw.url, { user: 'n' })).status, 200);
  await announce(group.master, group.replica.port);
  await waitFor(() => followedTo(gw.logs).length > 0, 5000, 20);
  t.same(followedTo(gw.logs), [`127.0.0.1:${group.replica.port}`], 'another group\'s switch, and one to the primary the store is on, are left alone');
  // The real sentinel still names the primary: the store asks it and returns there.
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'n' })).status === 200, 5000, 50), 'served again after reconnecting');
});

t.test('a failover heard while the store is still asking a sentinel for the primary: the store connects again', async (t) => {
  // ioredis ended a client for good when its failover detector, left subscribed from the last
  // connection, heard +switch-master while the client was asking the sentinels (its connector
  // then failed the connect). The store's own listener leaves a connecting client alone. Here
  // the sentinel is reached through a relay that leaves new connections unanswered, so the
  // store is still asking when the promotion is announced on the subscription opened before.
  const group = await startSentinelGroup(t);
  const relay = await startTcpProxy(t, Number(group.sentinel.split(':')[1]));
  const gw = await startGateway(t, config({ master: group.master, nodes: [`127.0.0.1:${relay.port}`] }, 100), { watch: false });
  t.equal((await send(gw.url, { user: 'a' })).status, 200, 'served through the relayed sentinel');
  await listenedTo(group);

  await relay.leaveNewUnanswered();
  await group.primary.kill();
  await waitFor(async () => (await group.primaryPort()) === group.replica.port, 20_000, 100);
  // +switch-master has gone out on the open subscription; the store is still asking.
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal((await send(gw.url, { user: 'b' })).status, 503, 'fail closed while no sentinel answers');
  await relay.acceptNew();
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'b' })).status === 200, 10_000, 50), 'served again, by the promoted replica, once the sentinel answers');
});

t.test('a planned failover (SENTINEL FAILOVER) under traffic: the old primary, demoted, is left for the new one', async (t) => {
  const group = await startSentinelGroup(t);
  const gw = await startGateway(t, config({ master: group.master, nodes: [group.sentinel] }, 100_000), { watch: false });
  t.equal((await send(gw.url, { user: 'f' })).status, 200);
  let stop = false;
  t.teardown(() => (stop = true)); // should a wait below fail
  const statuses: number[] = [];
  const load = (async () => {
    while (!stop) statuses.push((await send(gw.url, { user: 'f' })).status);
  })().catch((err: unknown) => {
    if (!stop) throw err; // a request failing after a failed wait has stopped the test is not news
  });
  await listenedTo(group);
  const failover = await group.ask('SENTINEL', 'FAILOVER', group.master);
  t.match(failover, /OK/, `SENTINEL FAILOVER: ${failover.trim()}`);
  await waitFor(async () => (await group.primaryPort().catch(() => 0)) === group.replica.port, 20_000, 50);
  // The old primary still takes writes: the announcement is what moves the store, at once.
  t.ok(await waitFor(() => followedTo(gw.logs).includes(`127.0.0.1:${group.replica.port}`), 5000, 20), 'the switch is followed as announced');
  // The sentinel turns the old primary into a replica some seconds later (its next look at it).
  await waitFor(async () => (await group.primary.command('ROLE').catch(() => '')).includes('slave'), 20_000, 50);
  const switched = statuses.length;
  await waitFor(async () => statuses.length > switched + 20 && statuses.slice(-20).every((s) => s === 200), 10_000, 50);
  stop = true;
  await load;
  const refused = statuses.filter((s) => s !== 200).length;
  t.comment(`${refused} of ${statuses.length} requests refused (fail closed) during the failover`);
  t.ok(statuses.every((s) => s === 200 || s === 503), 'only the fail mode\'s 503s');
  // Its keys expire within a millisecond at this limit: the scripts it ran tell instead.
  const before = await evalshaCalls(group.replica);
  t.equal((await send(gw.url, { user: 'f' })).status, 200);
  t.ok((await evalshaCalls(group.replica)) > before, 'the new primary runs the store\'s scripts');
});

t.test('a sentinel with a password of its own', async (t) => {
  const group = await startSentinelGroup(t, { sentinelPassword: 'sentinel-secret' });
  const wrong = await startGateway(t, config({ master: group.master, nodes: [group.sentinel], password: 'not-it' }, 100), { watch: false });
  t.equal((await send(wrong.url, { user: 'p' })).status, 503, 'a wrong sentinel password: the store cannot find the primary, fail closed refuses');
  const right = await startGateway(t, config({ master: group.master, nodes: [group.sentinel], password: 'sentinel-secret' }, 100), { watch: false });
  t.ok(await waitFor(async () => (await send(right.url, { user: 'p' })).status === 200, 5000, 50), 'the right one: served');
});

t.test('a sentinel that lets in an ACL user only: asked, and listened to, as that user', async (t) => {
  const group = await startSentinelGroup(t, { sentinelUser: { username: 'gw-sentinel', password: 'acl-secret' } });
  const wrong = await startGateway(t, config({ master: group.master, nodes: [group.sentinel], password: 'acl-secret' }, 100), { watch: false });
  t.equal((await send(wrong.url, { user: 'u' })).status, 503, 'the password without the user (the default user is off): fail closed refuses');
  const right = await startGateway(t, config({ master: group.master, nodes: [group.sentinel], username: 'gw-sentinel', password: 'acl-secret' }, 100), { watch: false });
  t.ok(await waitFor(async () => (await send(right.url, { user: 'u' })).status === 200, 5000, 50), 'with the user: served');
  t.ok(await waitFor(async () => /cmd=subscribe user=gw-sentinel .* resp=2\b/.test(await group.ask('CLIENT', 'LIST')), 5000, 20), 'the +switch-master subscription is the user\'s, in RESP2');
  t.notOk(JSON.stringify(right.logs).includes('acl-secret'), 'the password is in no log line');
});

t.test('over TLS: the sentinel and both Redis speak only TLS, and a planned failover is followed', async (t) => {
  const certs = selfSignedCertificate(tempDir('sentinel-tls-'));
  const group = await startSentinelGroup(t, { tls: { cert: certs.cert, key: certs.key, ca: certs.cert } });
  // The CA through store.redis.tls (an absolute path here), for the sentinel and the primary alike.
  const gw = await startGateway(t, config({ master: group.master, nodes: [group.sentinel] }, 100_000, { url: 'rediss://127.0.0.1:1', tls: { ca_file: certs.cert } }), { watch: false });
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'tls' })).status === 200, 5000, 50), 'served through the sentinel, over TLS');
  await listenedTo(group);
  const failover = await group.ask('SENTINEL', 'FAILOVER', group.master);
  t.match(failover, /OK/, `SENTINEL FAILOVER: ${failover.trim()}`);
  await waitFor(async () => (await group.primaryPort().catch(() => 0)) === group.replica.port, 20_000, 50);
  t.ok(await waitFor(() => followedTo(gw.logs).includes(`127.0.0.1:${group.replica.port}`), 5000, 20), 'the announcement, heard over TLS, is followed');
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'tls' })).status === 200 && (await evalshaCalls(group.replica)) > 0, 10_000, 50), 'served by the new primary');
});

t.test('sentinels that name hosts (announce-hostnames): a switch to the host the store is on is left alone; a failover is followed', async (t) => {
  // As in Kubernetes: the sentinel monitors `localhost`, the replica announces itself by name,
  // and announcements carry names, never the address the store's socket is connected to.
  const group = await startSentinelGroup(t, { hostnames: true });
  const announcer = await startRedis(t);
  const gw = await startGateway(t, config({ master: group.master, nodes: [group.sentinel, `127.0.0.1:${announcer.port}`] }, 100_000), { watch: false });
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'h' })).status === 200, 5000, 50), 'served through the primary the sentinel names by host');
  await announcerHeard(announcer);
  await listenedTo(group);

  await announcer.command('PUBLISH', '+switch-master', `${group.master} localhost 1 localhost ${group.primary.port}`);
  await announcer.command('PUBLISH', '+switch-master', `${group.master} localhost 1 localhost ${group.replica.port}`);
  await waitFor(() => followedTo(gw.logs).length > 0, 5000, 20);
  t.same(followedTo(gw.logs), [`localhost:${group.replica.port}`], 'a switch to the host and port it is on is left alone; one to another port is followed');
  // The real sentinel still names the primary: the store asks it and returns there.
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'h' })).status === 200, 5000, 50), 'back on the primary the sentinel names');

  const failover = await group.ask('SENTINEL', 'FAILOVER', group.master);
  t.match(failover, /OK/, `SENTINEL FAILOVER: ${failover.trim()}`);
  t.ok(await waitFor(() => followedTo(gw.logs).length > 1, 20_000, 20), 'the sentinel\'s own announcement is followed');
  t.ok(await waitFor(async () => (await send(gw.url, { user: 'h' })).status === 200 && (await evalshaCalls(group.replica)) > 0, 10_000, 50), 'served by the new primary');
  t.same(followedTo(gw.logs), [`localhost:${group.replica.port}`, `localhost:${group.replica.port}`], 'named by host, and followed once: not again once there');
});
