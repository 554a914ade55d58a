/**
 * A real, throwaway PostgreSQL server on a free loopback port: a fresh cluster in a temp
 * directory (`initdb`, trust auth, fsync off), stopped by its postmaster PID at teardown.
 * PostgreSQL refuses to run as root, so as root the cluster is owned by and run as the
 * `postgres` user (`runuser`). If PostgreSQL is not installed the test fails (CI installs it).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from './ports.js';
import { stopWithTestProcess } from './reap.js';
import { tempDir } from './temp-dir.js';

export interface TestPostgres {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  /** PID of the postmaster. */
  readonly pid: number;
  /** Run one query on a fresh connection. */
  query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

function binDir(): string {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    // Debian installs the server binaries off PATH, under a versioned directory.
    const base = '/usr/lib/postgresql';
    const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
    for (const v of versions) if (existsSync(path.join(base, v, 'bin', 'postgres'))) return path.join(base, v, 'bin');
    throw new Error('PostgreSQL is not installed (no pg_config and nothing under /usr/lib/postgresql); apt-get install postgresql');
  }
}

function asOwner(root: boolean, cmd: string, args: string[]): [string, string[]] {
  return root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

export async function startPostgres(t: Teardown): Promise<TestPostgres> {
  const bin = binDir();
  const root = userInfo().uid === 0;
  const dir = tempDir('gw-pg-');
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  const [initCmd, initArgs] = asOwner(root, path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  execFileSync(initCmd, initArgs, { stdio: 'ignore' });
  const port = await freePort();
  const [cmd, args] = asOwner(root, path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']);
  const child = spawn(cmd, args, { stdio: 'ignore', detached: false });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  let pid = -1;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited early with code ${child.exitCode}`);
    try {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.end();
      pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`postgres on port ${port} did not accept connections`);
      await sleep(100);
    }
  }

  // The postmaster itself (`child` may be runuser); SIGQUIT is PostgreSQL's immediate shutdown.
  const forget = stopWithTestProcess(pid, 'SIGQUIT');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    forget();
    try {
      process.kill(pid, 'SIGINT'); // fast shutdown
    } catch {
      // already gone
    }
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await sleep(50);
    }
  };
  t.teardown(stop);
  return {
    port,
    url,
    pid,
    async query(sql, params) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    stop,
  };
}
