/**
 * The store's own `+switch-master` listener (core/stores/redis-switch-master.ts). A plain
 * Redis stands in for the sentinel here: the listener only subscribes, and a Redis channel
 * delivers what is published on it exactly as a sentinel delivers its announcements, so the
 * test can announce whatever it needs, in order. The client is a real connection to a real
 * Redis, so "the primary it is on" is a real socket's peer.
 */
import t from 'tap';
import ioredis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { followSwitchMaster, parseSwitchMaster, type HostLookup, type SwitchedPrimary } from '../../core/stores/redis-switch-master.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/live.js';

t.test('an announcement is read into the group and its new primary', async (t) => {
  t.same(parseSwitchMaster('gw 127.0.0.1 6379 10.0.0.2 6380'), { master: 'gw', host: '10.0.0.2', port: 6380 });
  t.same(parseSwitchMaster('gw ::1 6379 ::2 6380'), { master: 'gw', host: '::2', port: 6380 }, 'IPv6, as a sentinel writes it');
  t.equal(parseSwitchMaster('gw 127.0.0.1 6379 10.0.0.2'), undefined, 'too short');
  t.equal(parseSwitchMaster('gw 127.0.0.1 6379 10.0.0.2 x'), undefined, 'no port');
});

const subscribed = async (announcer: TestRedis, count: number): Promise<void> => {
  await waitFor(async () => (await announcer.command('PUBSUB', 'NUMSUB', '+switch-master')).endsWith(`:${count}\r\n`), 5000, 20);
};

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * A Redis, a client connected to it that waits `backoffMs` between reconnects, and the
 * stand-in sentinel, listened to for the group `gw`; host names resolved by `resolve` when given,
 * within `connectTimeout`.
 */
async function following(t: Teardown, backoffMs: number, moved: (to: SwitchedPrimary) => void, names: { resolve?: HostLookup; connectTimeout?: number } = {}) {
  const primary = await startRedis(t);
  const announcer = await startRedis(t);
  const client = new ioredis.Redis({ port: primary.port, host: '127.0.0.1', retryStrategy: () => backoffMs });
  client.on('error', () => undefined);
  t.teardown(() => client.disconnect());
  await waitFor(() => client.status === 'ready', 5000, 10);
  const follower = followSwitchMaster(ioredis, client, { master: 'gw', nodes: [`127.0.0.1:${announcer.port}`] }, { retryStrategy: () => 50, connectTimeout: names.connectTimeout }, moved, names.resolve);
  t.teardown(() => follower.close());
  await subscribed(announcer, 1);
  const announce = (message: string): Promise<string> => announcer.command('PUBLISH', '+switch-master', message);
  return { primary, announcer, client, follower, announce };
}

t.test('only a switch of its own group, to a primary it is not on, drops the connection', async (t) => {
  const moves: SwitchedPrimary[] = [];
  const { primary, announcer, client, follower, announce } = await following(t, 50, (to) => moves.push(to));

  // One subscription delivers in order: once the last is seen, the ones before it were read.
  await announce(`other 127.0.0.1 1 127.0.0.1 2`);
  await announce(`gw 127.0.0.1 1 127.0.0.1 ${primary.port}`);
  await announce(`gw 127.0.0.1 ${primary.port} 127.0.0.2 7000`);
  await waitFor(() => moves.length > 0, 5000, 10);
  t.same(moves, [{ master: 'gw', host: '127.0.0.2', port: 7000 }], 'another group\'s switch, and a switch to the primary it is on, are left alone');

  await primary.kill();
  await waitFor(() => client.status !== 'ready', 5000, 10);
  await announce(`gw 127.0.0.1 ${primary.port} 127.0.0.2 7001`);
  await sleep(100); // read while the client cannot connect
  await primary.restart();
  await waitFor(() => client.status === 'ready', 5000, 10);
  await announce(`gw 127.0.0.1 ${primary.port} 127.0.0.2 7002`);
  await waitFor(() => moves.length > 1, 5000, 10);
  t.same(moves.map((m) => m.port), [7000, 7002], 'a client still connecting is left to ask the sentinels');

  await announcer.restart();
  await subscribed(announcer, 1);
  await announce(`gw 127.0.0.1 ${primary.port} 127.0.0.2 7003`);
  await waitFor(() => moves.length > 2, 5000, 10);
  t.equal(moves[2]?.port, 7003, 'a sentinel that restarts is listened to again');

  follower.close();
  await subscribed(announcer, 0);
  t.pass('closed: no subscription left');
});

t.test('a client waiting out its backoff after losing its primary connects when the switch is announced', async (t) => {
  // A backoff far longer than the test: only the announcement can bring the client back in time.
  const { primary, client, announce } = await following(t, 60_000, () => t.fail('a client that lost its primary has no connection to drop'));

  await primary.restart(); // the connection is lost; the next attempt is a minute away
  await waitFor(() => client.status === 'reconnecting', 5000, 10);
  await announce(`gw 127.0.0.1 1 127.0.0.1 ${primary.port}`);
  await waitFor(() => client.status === 'ready', 5000, 10);
  t.pass('connected at the announcement, not after the backoff');
});

t.test('sentinels that announce host names: the name is resolved before it is compared with the connection', async (t) => {
  const moves: SwitchedPrimary[] = [];
  const { primary, announce } = await following(t, 50, (to) => moves.push(to));
  // `localhost` is 127.0.0.1, the address the client connected to: the same primary.
  await announce(`gw localhost 1 localhost ${primary.port}`);
  await announce(`gw localhost ${primary.port} localhost 7000`);
  await waitFor(() => moves.length > 0, 5000, 10);
  t.same(moves, [{ master: 'gw', host: 'localhost', port: 7000 }], 'the primary it is on, by name, is left alone; another port is followed');
});

/** Resolves `hung.test` never, any other name to 127.0.0.1; counts the lookups. */
function hungResolver(): { resolve: HostLookup; lookups: string[] } {
  const lookups: string[] = [];
  const resolve: HostLookup = (host) => {
    lookups.push(host);
    return host === 'hung.test' ? new Promise(() => undefined) : Promise.resolve(['127.0.0.1']);
  };
  return { resolve, lookups };
}

t.test('a host name whose lookup hangs holds back no later announcement, and is dropped once one came', async (t) => {
  const moves: SwitchedPrimary[] = [];
  const { resolve, lookups } = hungResolver();
  // A limit far above a loaded machine's publish-to-message time, so only a queue could reach it.
  const { announce } = await following(t, 50, (to) => moves.push(to), { resolve, connectTimeout: 1000 });
  await announce('gw 127.0.0.1 1 hung.test 7000');
  await waitFor(() => lookups.length === 1, 5000, 5);
  const later = performance.now();
  await announce('gw 127.0.0.1 1 127.0.0.2 7001');
  await waitFor(() => moves.length > 0, 5000, 5);
  t.ok(performance.now() - later < 1000, 'followed before the hung lookup reached its limit');
  await sleep(1200); // past the hung lookup's limit
  t.same(moves.map((m) => m.port), [7001], 'the earlier switch, its lookup given up, is not followed after the later one');
});

t.test('a host name whose lookup hangs past the connect timeout is followed as unresolved', async (t) => {
  const moves: SwitchedPrimary[] = [];
  const { resolve } = hungResolver();
  const { announce } = await following(t, 50, (to) => moves.push(to), { resolve, connectTimeout: 200 });
  const announced = performance.now();
  await announce('gw 127.0.0.1 1 hung.test 7000');
  await waitFor(() => moves.length > 0, 5000, 5);
  const waited = performance.now() - announced;
  t.ok(waited >= 190, `waited for the lookup's limit (${waited.toFixed(0)} ms)`);
  t.same(moves, [{ master: 'gw', host: 'hung.test', port: 7000 }], 'not known to be the primary the client is on: the connection is moved');
});
