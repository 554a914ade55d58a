/**
 * What start-up loads: the embedded config is served without loading the packages that
 * only some features need (ajv's compiler when every validator is precompiled, undici's
 * full entry, AWS's signer, the Redis, PostgreSQL and SQLite clients). A preload prints the
 * CommonJS modules loaded (the build's `.cjs` files read, Node's built-in modules) when the
 * listener binds, then ends the process.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliPath } from '../helpers/process.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('gw-startup-');
const preload = path.join(dir, 'loaded-at-listen.cjs');
writeFileSync(
  preload,
  `const fs = require('node:fs');
const net = require('node:net');
// The build's CommonJS files load through requireCached (core/deps/code-cache.ts), which
// reads them itself (opened and read into one scratch buffer): they are not in require.cache.
const read = new Set();
for (const name of ['readFileSync', 'openSync']) {
  const original = fs[name];
  fs[name] = function (file, ...rest) {
    if (typeof file === 'string' && file.endsWith('.cjs')) read.add(file);
    return original.call(this, file, ...rest);
  };
}
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  this.once('listening', () => {
    const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => 'node:' + m.slice('NativeModule '.length));
    process.stdout.write('\\nLOADED ' + JSON.stringify([...Object.keys(require.cache), ...read, ...builtins]) + '\\n');
    process.exit(0);
  });
  return listen.apply(this, args);
};
`,
);

async function loadedAtListen(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const port = await freePort();
  const r = spawnSync(process.execPath, ['--require', preload, cliPath, ...args], {
    env: { PATH: process.env.PATH, AI_GATEWAY_PORT: String(port), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('LOADED '));
  if (!line) throw new Error(`the gateway did not listen (status ${r.status}): ${r.stderr}`);
  return (JSON.parse(line.slice('LOADED '.length)) as string[]).map((f) => f.split(path.sep).join('/'));
}

const NOT_AT_START: Array<[string, RegExp]> = [
  ["ajv's compiler", /\/node_modules\/ajv\/dist\/(ajv|core)\.js$/],
  ["undici's full entry", /\/node_modules\/undici\/index\.js$/],
  ["undici's fetch", /\/node_modules\/undici\/lib\/web\//],
  ["AWS's SigV4 signer", /\/node_modules\/@smithy\/signature-v4\//],
  ['the AWS SDK', /\/node_modules\/@aws-sdk\//],
  ['ioredis', /\/node_modules\/ioredis\/|\/dist\/vendor\/ioredis\.cjs$/],
  ['pg', /\/node_modules\/pg\//],
  ['better-sqlite3', /\/node_modules\/better-sqlite3\//],
  // Cleartext: the listener loads it for the first h2c client; undici's pools never need it.
  ['node:http2', /^node:http2$/],
  // A sentinel's announced host name is the only lookup the gateway makes itself.
  ['node:dns/promises', /^node:dns\/promises$/],
];

t.test('the embedded config starts without the packages only some features need', async (t) => {
  const loaded = await loadedAtListen([]);
  t.ok(loaded.some((f) => f.endsWith('/dist/vendor/undici.cjs')), "undici's Pool is loaded, from the build's bundle (the upstream pools)");
  t.ok(loaded.some((f) => /\/precompiled\/[0-9a-f]{64}\.cjs$/.test(f)), 'precompiled validators are used');
  t.ok(loaded.includes('node:http'), "Node's built-in modules are listed too");
  for (const [what, re] of NOT_AT_START) t.notOk(loaded.find((f) => re.test(f)), `${what} is not loaded`);
});

t.test('a config on the Redis store loads ioredis from the build\'s bundle', async (t) => {
  // Nothing listens on the url's port: the store starts down (fail open) and the gateway listens anyway.
  const file = path.join(tempDir('startup-redis-'), 'config.yaml');
  const store = `store: { type: redis, redis: { url: "redis://127.0.0.1:${await freePort()}" } }`;
  writeFileSync(file, `providers:\n  echo: { models: [echo-1] }\nfilters:\n  - name: auth\n    config: { source: static }\n  - name: rate-limit\nworkspaces:\n  ws-a: { user: alice }\nrate_limits:\n  default: { requests_per_minute: 100 }\n${store}\n`);
  const loaded = await loadedAtListen([], { AI_GATEWAY_CONFIG: file });
  t.ok(loaded.some((f) => f.endsWith('/dist/vendor/ioredis.cjs')), 'ioredis from dist/vendor/ioredis.cjs, with its code cache');
  t.notOk(loaded.find((f) => f.includes('/node_modules/ioredis/')), 'not from node_modules (~70 files)');
  t.notOk(loaded.includes('node:tls'), 'node:tls is not loaded: the store is not on TLS');
});
