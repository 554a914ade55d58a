/**
 * `store.redis.sentinel` when the config loads: the sentinels' addresses are checked, and
 * settings that cannot go with it are named at its key. (The store against a real Sentinel
 * deployment: test/filters/rate-limit/redis-sentinel.test.ts.)
 */
import path from 'node:path';
import t from 'tap';
import { parseConfig } from '../../core/config/load.js';
import { tempDir } from '../helpers/temp-dir.js';
import { formattedConfigIssues } from '../helpers/config-issues.js';

const configFile = path.join(tempDir('aigw-redis-sentinel-config-'), 'config.yaml');

function config(redis: string): string {
  return `store:\n  type: redis\n  redis:\n${redis}`;
}

/** The formatted issues of loading `text`, or [] when it loads. */
function issuesOf(text: string): string[] {
  return formattedConfigIssues(text, configFile);
}

t.test('a master group and its sentinels load', async (t) => {
  const text = config('    url: "redis://:pw@primary/2"\n    sentinel:\n      master: mymaster\n      nodes: ["redis-node-0.redis-headless:26379", "10.0.0.7:26379", "[fd00::7]:26379"]\n      password: s3cret\n');
  t.same(issuesOf(text), []);
  const redis = parseConfig(text, configFile, {}).config.store?.redis;
  t.same(redis?.sentinel, { master: 'mymaster', nodes: ['redis-node-0.redis-headless:26379', '10.0.0.7:26379', '[fd00::7]:26379'], password: 's3cret' });
});

t.test('an ACL user for the sentinels loads; an empty one is named', async (t) => {
  const sentinel = (user: string): string => config(`    url: "redis://r"\n    sentinel:\n      master: m\n      nodes: ["s:26379"]\n      username: ${user}\n      password: pw\n`);
  t.same(issuesOf(sentinel('gw')), []);
  t.equal(parseConfig(sentinel('gw'), configFile, {}).config.store?.redis?.sentinel?.username, 'gw');
  t.match(issuesOf(sentinel('""')), [/store\.redis\.sentinel\.username/]);
});

t.test('what cannot be used is named at its key', async (t) => {
  const nodes = '      nodes: ["s:26379"]\n';
  t.match(issuesOf(config(`    url: "redis://r"\n    sentinel:\n${nodes}`)), [/store\.redis\.sentinel.*master/], 'no master group');
  t.match(issuesOf(config('    url: "redis://r"\n    sentinel:\n      master: m\n      nodes: []\n')), [/store\.redis\.sentinel\.nodes/], 'no sentinels');
  for (const bad of ['sentinel-0', 'sentinel-0:0', 's:65536', '::1:26379', 'redis://s:26379', '[::1]26379', 's: 1', ':26379']) {
    t.match(issuesOf(config(`    url: "redis://r"\n    sentinel:\n      master: m\n      nodes: ["${bad}"]\n`)), [new RegExp(`store\\.redis\\.sentinel\\.nodes\\[0\\]: "${bad.replace(/[[\]]/g, '\\$&')}" is not host:port`)], `"${bad}" is not host:port`);
  }
  t.match(issuesOf(config(`    url: "redis://r"\n    cluster: true\n    sentinel:\n      master: m\n${nodes}`)), [/store\.redis\.sentinel.*Redis Cluster and Redis Sentinel exclude each other/]);
  t.same(issuesOf(config(`    url: "rediss://r"\n    sentinel:\n      master: m\n${nodes}`)), [], 'over TLS too');
});
