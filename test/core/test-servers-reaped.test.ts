/**
 * A test file that tap's timeout ends never runs its teardowns: the servers it started must
 * not outlive it, nor its temp folders stay (test/helpers/reap.ts). A fixture starts a real
 * redis-server whose teardown never runs, then exits, or receives SIGALRM and SIGKILL as tap
 * sends them on a timeout.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/live.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/reaped-redis.ts');

/** Running: a process that has exited but is not yet reaped (a zombie, state Z) is not. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function startFixture(t: { teardown(fn: () => unknown): void }, mode: 'exit' | 'wait') {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return { child, redisPid: Number(line) };
}

t.test('a normal exit stops the redis-server its teardown would have', async (t) => {
  const { child, redisPid } = await startFixture(t, 'exit');
  t.ok(redisPid > 0, `redis-server ${redisPid} started`);
  if (child.exitCode === null) await once(child, 'exit');
  t.ok(await waitFor(() => !alive(redisPid), 5000, 20).catch(() => false), 'gone with the test process');
});

t.test("tap's timeout signal stops it and removes its folder before tap's SIGKILL", async (t) => {
  const { child, redisPid } = await startFixture(t, 'wait');
  t.ok(alive(redisPid), `redis-server ${redisPid} running`);
  const dir = workDir(redisPid);
  t.ok(existsSync(dir), `its folder ${dir} is there`);
  child.kill('SIGALRM');
  t.ok(await waitFor(() => !alive(redisPid), 5000, 20).catch(() => false), 'stopped on SIGALRM');
  t.ok(await waitFor(() => !existsSync(dir), 5000, 20).catch(() => false), 'its folder removed on SIGALRM');
  // What tap does 500 ms after its SIGALRM: no exit handler runs after this.
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
  t.notOk(existsSync(dir), 'and still gone');
});

/** The folder a test redis-server works in: its `--dir`, where it changes directory to. */
function workDir(pid: number): string {
  return readlinkSync(`/proc/${pid}/cwd`);
}
