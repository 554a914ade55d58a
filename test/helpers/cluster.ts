/**
 * The real CLI run as a cluster (`server.workers` > 1) in a child process, and plain
 * HTTP requests on fresh connections so the primary's round-robin spreads them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './live.js';
import { reapChild } from './reap.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ClusterCli {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  exited: Promise<number | null>;
  /** The primary's worker processes right now (Linux: /proc children). */
  workerPids(): number[];
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Start `ai-gateway --config file`; resolves once the primary logged `cluster ready` (or the process ended, for refusal tests). */
export async function startCluster(t: Teardown, file: string, env: NodeJS.ProcessEnv = {}, until = '"cluster ready"'): Promise<ClusterCli> {
  // Its workers leave with it: a worker exits when its IPC channel to the primary closes.
  const child = reapChild(spawn(process.execPath, ['--import', 'tsx', 'bin/ai-gateway.ts', '--config', file], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] }));
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    // Workers first, by their pids, then the primary: nothing outlives the test.
    for (const pid of childrenOf(child.pid!)) killQuietly(pid);
    killQuietly(child.pid!);
  });
  await waitFor(() => err.includes(until) || child.exitCode !== null, 30_000, 20);
  return { child, pid: child.pid!, stderr: () => err, exited, workerPids: () => childrenOf(child.pid!) };
}

/** A process's children (Linux's /proc/PID/task/PID/children); none where it cannot be read. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on its own connection (no keep-alive: each is a new accept for round-robin). */
export function send(url: string, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url + opts.path, { method: opts.method ?? 'GET', agent: false, headers: { 'content-type': 'application/json', ...opts.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Run `jobs` with at most `limit` in flight. */
export async function pool<T>(count: number, limit: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await job(i);
      }
    }),
  );
  return out;
}
