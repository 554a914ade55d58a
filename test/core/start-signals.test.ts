/**
 * Signals that reach the real CLI while it starts: a SIGTERM is held and acted on once the
 * gateway is up (it drains, closes its plugins and exits 0, instead of dying at once), a
 * second one exits at once, a SIGHUP reloads once started instead of killing the process,
 * and a cluster primary told to stop or reload while its workers start still reaches them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { writeConfig } from '../helpers/gateway.js';
import { waitFor } from '../helpers/live.js';
import { freePort } from '../helpers/ports.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const slowCreate = JSON.stringify(path.join(root, 'test/fixtures/plugins/slow-create.js'));

interface Cli {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  /** How the process ended: its exit code, or the signal that killed it. */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function config(port: number, delayMs: number, server = ''): string {
  return `server:\n  host: 127.0.0.1\n  port: ${port}\n  drain_timeout_ms: 2000\n${server}providers:\n  echo: {}\nfilters:\n  - name: slow-create\n    plugin: ${slowCreate}\n    config: { delay_ms: ${delayMs} }\n`;
}

/** The CLI on a config whose slow-create filter takes `delayMs` to create; not waited for. */
async function spawnCli(t: Test, delayMs: number, options: { server?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Cli> {
  const port = await freePort();
  const { file } = writeConfig(config(port, delayMs, options.server));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/ai-gateway.ts', '--config', file], { cwd: root, env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => void child.kill('SIGKILL'));
  return { child, port, stderr: () => err, ended };
}

async function waitForText(cli: Cli, text: string, count = 1): Promise<void> {
  await waitFor(() => cli.stderr().split(text).length > count || cli.child.exitCode !== null || cli.child.signalCode !== null, 30_000, 10);
  if (cli.stderr().split(text).length <= count) throw new Error(`"${text}" never came (${count}); stderr:\n${cli.stderr()}`);
}

t.test('a SIGTERM during start-up is acted on once started: drained, plugins closed, exit 0', async (t) => {
  const cli = await spawnCli(t, 1500);
  await waitForText(cli, 'slow-create: creating');
  cli.child.kill('SIGTERM');
  await waitForText(cli, '"msg":"stop signal during start-up; stopping once started"');
  t.same(await cli.ended, { code: 0, signal: null }, 'exited 0, not killed by the signal');
  const err = cli.stderr();
  t.ok(err.indexOf('"gateway listening"') < err.indexOf('"msg":"shutting down","signal":"SIGTERM"'), 'it finished starting, then shut down');
  t.match(err, /"msg":"drained"/);
  t.match(err, /slow-create: closed/, 'the filter made during start-up was closed');
});

t.test('a second SIGTERM during start-up exits at once with 128 + 15', async (t) => {
  const cli = await spawnCli(t, 20_000);
  await waitForText(cli, 'slow-create: creating');
  cli.child.kill('SIGTERM');
  await waitForText(cli, '"msg":"stop signal during start-up; stopping once started"');
  const second = performance.now();
  cli.child.kill('SIGTERM');
  t.same(await cli.ended, { code: 143, signal: null });
  const ms = performance.now() - second;
  t.ok(ms < 5000, `exited ${ms.toFixed(0)} ms after the second signal, not after the 20 s start`);
  t.match(cli.stderr(), /"msg":"second stop signal during start-up; exiting without a drain"/);
  t.notMatch(cli.stderr(), /gateway listening/);
});

t.test('a SIGHUP during start-up reloads once started instead of killing the process', async (t) => {
  const cli = await spawnCli(t, 1000);
  await waitForText(cli, 'slow-create: creating');
  cli.child.kill('SIGHUP');
  await waitForText(cli, '"msg":"reloading","signal":"SIGHUP"');
  t.ok(cli.stderr().indexOf('"gateway listening"') < cli.stderr().indexOf('"msg":"reloading"'), 'reloaded after it started');
  await waitForText(cli, '"msg":"config reloaded"');
  t.pass('an unchanged file is rebuilt: SIGHUP forces it (a file the config names may have changed)');
  const health = await fetch(`http://127.0.0.1:${cli.port}/health`);
  t.equal(health.status, 200, 'still serving');
  cli.child.kill('SIGTERM');
  t.same(await cli.ended, { code: 0, signal: null });
});

// Nothing connects to Redis here: the only filter is slow-create, so no store is made.
const CLUSTER = `  workers: 2\nstore: { type: redis, redis: { url: "redis://127.0.0.1:1" } }\n`;

t.test('a cluster primary stopped while its workers start drains them once they are ready', async (t) => {
  const cli = await spawnCli(t, 1500, { server: CLUSTER });
  await waitForText(cli, 'slow-create: creating', 2);
  const signalled = performance.now();
  cli.child.kill('SIGTERM');
  t.same(await cli.ended, { code: 0, signal: null }, 'the primary exited 0');
  const ms = performance.now() - signalled;
  const err = cli.stderr();
  t.equal(err.match(/"msg":"shutting down".*"signal":"primary: drain"/g)?.length, 2, 'both workers were told to drain once ready');
  t.notMatch(err, /did not exit in time/, 'no worker had to be killed');
  t.ok(ms < 2000 + 5000, `exited ${ms.toFixed(0)} ms after SIGTERM, before the primary's kill timer`);
});

t.test('a SIGHUP to a cluster primary while its workers start reaches each once it is ready', async (t) => {
  const cli = await spawnCli(t, 1500, { server: CLUSTER });
  await waitForText(cli, 'slow-create: creating', 2);
  cli.child.kill('SIGHUP');
  await waitForText(cli, '"msg":"reloading"', 2);
  const err = cli.stderr();
  t.equal(err.match(/"msg":"reloading".*"signal":"primary: reload"/g)?.length, 2, 'both workers reloaded');
  t.ok(err.indexOf('"msg":"cluster ready"') > 0, 'and the cluster is up');
  cli.child.kill('SIGTERM');
  t.same(await cli.ended, { code: 0, signal: null });
});

t.test('a cluster primary stopped before it forks exits 0 without forking', async (t) => {
  const cli = await spawnCli(t, 0, { server: CLUSTER, env: { SLOW_CREATE_IMPORT_MS: '1500' } });
  await waitForText(cli, 'slow-create: importing');
  cli.child.kill('SIGTERM');
  t.same(await cli.ended, { code: 0, signal: null });
  t.notMatch(cli.stderr(), /starting cluster/, 'no worker was forked');
  t.match(cli.stderr(), /"msg":"cluster stopped".*"code":0/);
});
