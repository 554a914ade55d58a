/** Processes under test: started pinned to a core, read for CPU time and memory from /proc. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * Node flags both proxies under test run with: the ones `npm start` and the image start the
 * gateway with. V8's memory reducer, after an idle spell, left the old generation marking
 * back to back under 100 KB requests (README, Performance). `SERVER_NODE_FLAGS="…"` adds
 * flags to both, to try a V8 setting fairly.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--no-memory-reducer', ...(process.env.SERVER_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];

export interface Started {
  child: ChildProcess;
  pid: number;
  /** The last 4,000 characters the child wrote to stderr. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Spawn `node args` (or `command args`) pinned to `core` (taskset), with stderr kept for errors. */
export function spawnPinned(core: number | undefined, args: string[], env: NodeJS.ProcessEnv = {}, command = process.execPath): Started {
  const cmd = core === undefined ? command : 'taskset';
  const argv = core === undefined ? args : ['-c', String(core), command, ...args];
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.resume();
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  return {
    child,
    pid: child.pid!,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * The gateway command in the checkout at `root`: `dist/bin/ai-gateway.cjs`, what `npm start`
 * and the image run; the ES module `dist/bin/ai-gateway.js` for a build made before there
 * was one, so older builds can still be measured against this one.
 */
export function gatewayEntry(root: string): string {
  const cjs = path.join(root, 'dist/bin/ai-gateway.cjs');
  return existsSync(cjs) ? cjs : path.join(root, 'dist/bin/ai-gateway.js');
}

/**
 * Pin this process to `core`: every thread of it. `taskset -p` alone moves only the main
 * thread; V8's GC and compiler workers and libuv's pool, started with the process, kept
 * both cores, so the load generator's collections and compiles could run on the core of
 * the server under test and take it from that server mid-measurement.
 */
export function pinSelf(core: number): void {
  spawnSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
}

/** Resolve the port a child printed as `listening PORT`. */
export function listeningPort(s: Started): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    s.child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    s.child.once('exit', (code) => reject(new Error(`exited ${code} before listening`)));
  });
}

/** Poll until `url` answers 200; returns ms waited. */
export async function waitFor200(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}, timeoutMs = 20_000): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    try {
      const res = await request(url, { method: (init.method ?? 'GET') as 'GET', body: init.body, headers: init.headers });
      await res.body.dump();
      if (res.statusCode === 200) return performance.now() - start;
    } catch {
      // not up yet
    }
    await sleep(2);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/** /proc/PID/stat's fields after pid and comm (comm may hold spaces, so split after its `)`). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU seconds the process has used. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuSplit(pid);
  return user + system;
}

/** User and system CPU seconds apart: a wake-up's cost shows in both. */
export function cpuSplit(pid: number): { user: number; system: number } {
  const fields = statFields(pid);
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND }; // utime, stime
}

/**
 * The main thread's voluntary context switches: each time its event loop went to sleep with
 * nothing to do, and so, once woken, one wake-up.
 */
export function loopWakeups(pid: number): number {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  const found = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status);
  if (!found) throw new Error(`/proc/${pid}/task/${pid}/status has no voluntary_ctxt_switches`);
  return Number(found[1]);
}

/**
 * CPU milliseconds from the scheduler's own accounting (/proc/PID/task/TID/schedstat, in
 * nanoseconds), not the 10 ms ticks of {@link cpuSeconds}: the main thread alone (the work a
 * first answer waits for), and all threads (V8's compiler and GC helpers, libuv's pool).
 */
export function schedCpuMs(pid: number): { main: number; all: number } {
  const ranNs = (tid: string): number => {
    try {
      return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      return 0; // the thread ended between the listing and the read
    }
  };
  let all = 0;
  let main = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const ns = ranNs(tid);
    all += ns;
    if (tid === String(pid)) main = ns; // the main thread's id is the process's
  }
  return { main: main / 1e6, all: all / 1e6 };
}

/**
 * Minor page faults of a process so far (/proc/PID/stat): first touches of fresh memory.
 * Each costs ~12 µs on this VM (a 64 MB buffer's first touch took 201 ms), so at start-up
 * they are a large, and nearly noise-free, share of the time: a count to compare builds by.
 */
export function minorFaults(pid: number): number {
  return Number(statFields(pid)[7]); // minflt
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * Set in this environment, Node 20 reads and parses the file `NODE_EXTRA_CA_CERTS` names
 * at every start, before any of the gateway's code runs (~40 ms for the system's CA bundle
 * on the machine of session 25). The benches then also time the floor without it, so the
 * reader can tell that share from the gateway's. An empty value is unset.
 */
export const EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS || undefined;

/**
 * What start-up costs Node itself on this machine: a bare `node:http` server (an ES module,
 * as the gateway is) spawned the way the gateway is, timed from spawn to its first 200.
 * The start-up target is absolute, and machines differ most here (`node -e ''` took 40 ms
 * on some and 110–150 on others), so the benches print it beside the gateway's figure.
 */
export async function nodeFloorStartup(core: number | undefined, port: number, env: NodeJS.ProcessEnv = {}): Promise<number> {
  const start = performance.now();
  const server = "import http from 'node:http'; http.createServer((q, s) => s.end('ok')).listen(Number(process.env.FLOOR_PORT), '127.0.0.1');";
  const child = spawnPinned(core, [...SERVER_NODE_FLAGS, '--input-type=module', '-e', server], { ...env, FLOOR_PORT: String(port) });
  try {
    await waitFor200(`http://127.0.0.1:${port}/`);
    return performance.now() - start;
  } finally {
    await child.stop();
  }
}
