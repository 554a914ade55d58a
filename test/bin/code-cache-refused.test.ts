/**
 * V8 refuses the build's code caches when Node runs with V8 flags the build did not (a heap
 * size in NODE_OPTIONS, the common case): the gateway still starts, and says so once. With
 * a cache directory of its own named (AI_GATEWAY_CODE_CACHE_DIR), it writes caches there
 * that the next start under the same flags uses; a directory others can write to is refused.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../helpers/live.js';
import { freePort } from '../helpers/ports.js';
import { cliPath, startCli } from '../helpers/process.js';
import { startRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp-dir.js';

const NOTE = "V8 refused the build's code caches";
const WRITTEN = 'code caches written for the next start';
const HEAP = '--max-old-space-size=4096';

async function startWith(nodeOptions: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const gw = await startCli([], { AI_GATEWAY_CONFIG: '', AI_GATEWAY_PORT: String(await freePort()), NODE_OPTIONS: nodeOptions, ...env });
  await sleep(300); // the note, and the caches' write, follow the listening line
  gw.child.kill('SIGTERM');
  await gw.exited;
  return gw.stderr();
}

function linesWith(stderr: string, text: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.includes(text))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

t.test('a heap size in NODE_OPTIONS: started, and the refused caches noted once', async (t) => {
  const stderr = await startWith(HEAP);
  const notes = linesWith(stderr, NOTE);
  t.equal(notes.length, 1, stderr);
  const line = notes[0] as { level: string; files: number; hint: string };
  t.equal(line.level, 'info');
  t.ok(line.files >= 2, `the app bundle and the vendor bundles (${line.files})`);
  t.match(line.hint, 'NODE_OPTIONS');
  t.match(line.hint, 'AI_GATEWAY_CODE_CACHE_DIR');
});

t.test('without V8 flags the caches are used: no note', async (t) => {
  const stderr = await startWith('');
  t.match(stderr, 'gateway listening');
  t.notMatch(stderr, NOTE);
});

t.test('with a cache directory: the first start under a heap size writes caches there, the next uses them', async (t) => {
  const dir = path.join(tempDir('gw-cc-cli-'), 'caches');
  const first = await startWith(HEAP, { AI_GATEWAY_CODE_CACHE_DIR: dir });
  t.notMatch(first, NOTE, 'no note: the directory is the answer to it');
  const written = linesWith(first, WRITTEN);
  t.equal(written.length, 1, first);
  t.equal(written[0]!.dir, dir);
  const files = readdirSync(dir);
  t.equal(files.length, written[0]!.files, 'one cache a file');
  t.ok(files.some((f) => /^gateway\.cjs\.[0-9a-f]{16}\.v8cache$/.test(f)), `the app bundle's among them: ${files.join(', ')}`);
  t.same(files.filter((f) => (statSync(path.join(dir, f)).mode & 0o777) !== 0o600), [], 'each readable by its user alone');

  // A cache the start could not use would be written again: none is.
  const second = await startWith(HEAP, { AI_GATEWAY_CODE_CACHE_DIR: dir });
  t.match(second, 'gateway listening');
  t.same(linesWith(second, WRITTEN), [], 'every file started from a cache');
  t.same(readdirSync(dir).sort(), files.sort());
});

t.test('a cache directory others can write to is refused with a warning; the gateway starts as without one', async (t) => {
  const dir = tempDir('gw-cc-cli-');
  chmodSync(dir, 0o777);
  const stderr = await startWith(HEAP, { AI_GATEWAY_CODE_CACHE_DIR: dir });
  const warnings = linesWith(stderr, 'AI_GATEWAY_CODE_CACHE_DIR not used');
  t.equal(warnings.length, 1, stderr);
  t.equal(warnings[0]!.level, 'warn');
  t.match(warnings[0]!.problem, /writable by others/);
  t.equal(linesWith(stderr, NOTE).length, 1, 'the refused caches are still noted');
  t.same(readdirSync(dir), [], 'nothing written there');
});

t.test('two workers under a heap size write one set of caches, and the next cluster start uses them', async (t) => {
  const redis = await startRedis(t);
  const home = tempDir('gw-cc-cluster-');
  const dir = path.join(home, 'caches');
  const config = path.join(home, 'config.yaml');
  writeFileSync(
    config,
    `server: { host: 127.0.0.1, port: ${await freePort()}, workers: 2, drain_timeout_ms: 1000 }
providers:
  echo: { models: [echo-1] }
filters:
  - name: auth
    config: { source: static }
  - name: rate-limit
workspaces:
  ws-a: { user: a }
store: { type: redis, redis: { url: "${redis.url}" } }
`,
  );
  const startCluster = async (): Promise<string> => {
    const child = spawn(process.execPath, [cliPath, '--config', config], { env: { PATH: process.env.PATH, NODE_OPTIONS: HEAP, AI_GATEWAY_CODE_CACHE_DIR: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitFor(() => stderr.includes('"cluster ready"') || child.exitCode !== null, 30_000, 20);
      await sleep(500); // each worker's write follows its listening line
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    return stderr;
  };

  const first = await startCluster();
  t.match(first, '"cluster ready"');
  const written = linesWith(first, WRITTEN);
  t.ok(written.length >= 1 && written.length <= 2, `one line a worker that wrote (${written.length})`);
  const files = readdirSync(dir).sort();
  t.same(files.filter((f) => !/\.[0-9a-f]{16}\.v8cache$/.test(f)), [], 'whole caches only: no temp file left by the two writers');
  t.equal(new Set(files.map((f) => f.replace(/\.[0-9a-f]{16}\.v8cache$/, ''))).size, files.length, 'one cache a file');

  const second = await startCluster();
  t.match(second, '"cluster ready"');
  t.same(linesWith(second, WRITTEN), [], 'both workers started from the caches');
  t.same(readdirSync(dir).sort(), files);
});
