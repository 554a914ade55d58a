/**
 * The Redis store's EVALSHA commands (core/stores/redis-script.ts): the RESP text it writes
 * is ioredis's own encoding of the same command, and through a real redis-server the store
 * reads every kind of script reply as ioredis's string commands would.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { Command } from 'ioredis';
import { Registry } from 'prom-client';
import { createLogger } from '../../core/logger.js';
import { createMetricsFactory } from '../../core/metrics-factory.js';
import { RedisStore } from '../../core/stores/redis.js';
import { preEncodedCommand, ScriptCalls, textReply } from '../../core/stores/redis-script.js';
import type { AtomicScript } from '../../core/stores/types.js';
import { waitFor } from '../helpers/live.js';
import { startRedis } from '../helpers/redis.js';

const sha = createHash('sha1').update('return 1').digest('hex');
const fullKey = (group: string, key: string): string => `aigw:{${group}}:${key}`;

/** ioredis's own EVALSHA: its RESP text, and its arguments as it holds them once written. */
function ioredisCommand(group: string, keys: string[], numbers: number[]): { text: string; args: unknown[] } {
  const c = new Command('evalsha', [sha, keys.length, ...keys.map((k) => fullKey(group, k)), ...numbers]);
  const text = String(c.toWritable(undefined as never));
  return { text, args: c.args };
}

/** What ioredis itself writes for `evalsha(sha, keys.length, …keys, …numbers)`. */
function ioredisText(group: string, keys: string[], numbers: number[]): string {
  return ioredisCommand(group, keys, numbers).text;
}

t.test('the text is ioredis\'s own encoding, head cached or not', async (t) => {
  const calls = new ScriptCalls(preEncodedCommand(Command), sha, fullKey);
  const cases: Array<[string, string[], number[]]> = [
    ['rl:u:ann', ['rpm', 'rpm_at', 'tpm', 'tpm_at'], [0, 60_000, 60, 100_000, 1, 1234]],
    ['rl:u:ann', ['rpm', 'rpm_at', 'tpm', 'tpm_at'], [2, 60_000, -1, 100_000, -3, 0.5]], // the cached head
    ['rl:u:%C3%A9l%C3%A8ve', ['rpm'], [1e21, 1.5e-7, Number.MAX_SAFE_INTEGER]], // a new group; numbers String() writes oddly, 1e21 past 2^53
    ['rl:u:ann', ['day:2026-12-04'], []], // the same group, other keys: a new head
    ['budget:ws/ä→b', ['spent', 'held'], [7]], // multi-byte keys: lengths in bytes
    ['g', [], [1]],
  ];
  for (const [group, keys, numbers] of cases) {
    const ours = calls.command(group, keys, numbers);
    const theirs = ioredisCommand(group, keys, numbers);
    t.equal(ours.toWritable(undefined as never), theirs.text, `${group} ${keys.join(',')} ${numbers.join(',')}`);
    t.same(ours.args, theirs.args, 'args as ioredis holds them');
    t.equal(ours.name, 'evalsha');
  }
});

t.test('a script that packs its cells into its first keys sends only those', async (t) => {
  const calls = new ScriptCalls(preEncodedCommand(Command), sha, fullKey, 1);
  const ours = calls.command('rl:u:ann', ['bucket', 'bucket:requests-at', 'bucket:tokens', 'bucket:tokens-at'], [0, 60_000, 60, 100_000, 1, 1234]);
  t.equal(ours.toWritable(undefined as never), ioredisText('rl:u:ann', ['bucket'], [0, 60_000, 60, 100_000, 1, 1234]));
  t.same(ours.args.slice(0, 3), [sha, '1', fullKey('rl:u:ann', 'bucket')]);
});

t.test('textReply decodes bulk strings, keeps integers and nesting', async (t) => {
  t.same(textReply([1, Buffer.from('2.5'), [Buffer.from('é'), 3, null], null]), [1, '2.5', ['é', 3, null], null]);
  t.equal(textReply(Buffer.from('OK')), 'OK');
  t.equal(textReply(7), 7);
  t.equal(textReply(null), null);
});

/** Returns what Lua returns: integers, strings, nested tables, nil; ARGV echoed back. */
const echo: AtomicScript<unknown> = {
  name: 'echo',
  lua: "redis.call('SET', KEYS[1], ARGV[1]) return { tonumber(ARGV[1]), ARGV[2], { 'ü', 5 }, redis.call('GET', KEYS[1]), KEYS[1] }",
  local: () => undefined,
  parse: (reply) => reply,
};

t.test('through a real redis-server: replies as string commands read them, NOSCRIPT reloads', async (t) => {
  const redis = await startRedis(t);
  const registry = new Registry();
  const metrics = createMetricsFactory(registry);
  const store = new RedisStore({ url: redis.url, keyPrefix: 'test:', failMode: 'closed', timeoutMs: 2000, log: createLogger({ sink: () => {} }), metrics });
  t.teardown(() => store.close());
  t.ok(await store.ready(5000), 'connected');

  t.same(await store.run(echo, 'grp-ä', ['k'], [42, 3.25]), [42, '3.25', ['ü', 5], '42', 'test:{grp-ä}:k']);
  // Two in one synchronous stretch (one write), a second group, then the cached heads again.
  const [a, b] = await Promise.all([store.run(echo, 'g1', ['x'], [1, -2]), store.run(echo, 'g2', ['x'], [3, 4])]);
  t.same(a, [1, '-2', ['ü', 5], '1', 'test:{g1}:x']);
  t.same(b, [3, '4', ['ü', 5], '3', 'test:{g2}:x']);
  t.same(await store.run(echo, 'g1', ['x'], [5, 6]), [5, '6', ['ü', 5], '5', 'test:{g1}:x']);

  t.notMatch(await registry.metrics(), /reason="noscript"/, 'a fresh Redis: the script was loaded ahead of its first EVALSHA');

  t.match(await redis.command('SCRIPT', 'FLUSH'), /OK/);
  t.same(await store.run(echo, 'g1', ['x'], [8, 9]), [8, '9', ['ü', 5], '8', 'test:{g1}:x'], 'EVAL after NOSCRIPT, same reply');
  t.same(await store.run(echo, 'g1', ['x'], [10, 11]), [10, '11', ['ü', 5], '10', 'test:{g1}:x'], 'and EVALSHA again');
  t.match(await redis.command('GET', 'test:{g1}:x'), /10/);
  t.match(await registry.metrics(), /gateway_store_redis_errors_total\{reason="noscript"\} 1\n/, 'the flush under a live connection is counted');

  // The EVAL after a NOSCRIPT sends the command's own keys and numbers, not the caller's arrays refilled since.
  t.match(await redis.command('SCRIPT', 'FLUSH'), /OK/);
  const keys = ['x'];
  const args = [20, 21];
  const pending = store.run(echo, 'g1', keys, args);
  keys.push('y');
  args.fill(99);
  t.same(await pending, [20, '21', ['ü', 5], '20', 'test:{g1}:x'], 'EVAL with what was sent');
  t.match(await registry.metrics(), /gateway_store_redis_errors_total\{reason="noscript"\} 2\n/);

  await redis.restart(); // empty: no keys, no scripts
  t.ok(await waitFor(async () => (await store.run(echo, 'g3', ['x'], [12, 13]).catch(() => undefined)) !== undefined, 10_000, 50), 'reconnected');
  t.same(await store.run(echo, 'g1', ['x'], [14, 15]), [14, '15', ['ü', 5], '14', 'test:{g1}:x']);
  t.match(await registry.metrics(), /gateway_store_redis_errors_total\{reason="noscript"\} 2\n/, 'a restarted Redis gets the scripts on reconnect: no NOSCRIPT');
});

t.test('a Redis that refuses SCRIPT LOAD: each first call falls back to EVAL, the refusal logged once', async (t) => {
  const redis = await startRedis(t);
  t.match(await redis.command('ACL', 'SETUSER', 'default', '-script|load'), /OK/);
  const registry = new Registry();
  const lines: Array<{ msg: string }> = [];
  const store = new RedisStore({ url: redis.url, keyPrefix: 'test:', failMode: 'closed', timeoutMs: 2000, log: createLogger({ sink: (line) => lines.push(JSON.parse(line) as { msg: string }) }), metrics: createMetricsFactory(registry) });
  t.teardown(() => store.close());
  t.ok(await store.ready(5000), 'connected');
  const other: AtomicScript<unknown> = { ...echo, lua: `${echo.lua} -- another script` };
  t.same(await store.run(echo, 'g', ['x'], [1, 2]), [1, '2', ['ü', 5], '1', 'test:{g}:x']);
  t.same(await store.run(other, 'g', ['y'], [3, 4]), [3, '4', ['ü', 5], '3', 'test:{g}:y']);
  t.same(await store.run(echo, 'g', ['x'], [5, 6]), [5, '6', ['ü', 5], '5', 'test:{g}:x'], 'EVALSHA once EVAL has cached it');
  t.match(await registry.metrics(), /gateway_store_redis_errors_total\{reason="noscript"\} 2\n/, 'one EVAL a script');
  t.equal(lines.filter((l) => l.msg.startsWith('redis store could not load its scripts ahead')).length, 1, 'the refusal is logged once');
});
