/**
 * Scaling past one core: req/s of the bare proxy and the gateway with 1 and 2 processes
 * serving, each gateway arm against the bare arm with the same number of processes.
 *
 *   npm run build && npx tsx bench/workers.ts [--seconds 5] [--trials 3] [--rate 2500]
 *
 * `--rate N` adds trials at a fixed N req/s (open loop, {@link latencyAtRate}) after the
 * max-throughput ones: every arm then does the same work a second, so CPU a request tells a
 * cost of the code path (paid at any load) from one of contention (paid only when the
 * processes crowd the cores at max throughput). Each unpinned single process also runs at
 * N/2, the rate each of two workers serves: a Node process's CPU a request rises as its own
 * rate falls (fewer requests a wake-up), so that, not the cluster, is a worker's baseline.
 *
 * Arms: bare (one process); bare under node:cluster with 1 and 2 workers; the gateway with
 * `server.workers: 1` (one process) and `2` (primary + 2 workers), both on the Redis store
 * (a redis-server on a free port) so only the process count differs. Single-process arms
 * are pinned to core 0 with the mock, Redis and this load generator (autocannon, 16
 * connections, 1 KB bodies) on core 1. Two-worker arms cannot be pinned apart on a
 * 2-core machine: workers, primary, mock, Redis and load generator share both cores, and
 * the output says so. So each single process also runs unpinned, placed as the two-worker
 * arms are: the 2 ÷ 1 ratios against those compare process counts alone. Prints a table and
 * writes bench/results/workers.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { latencyAtRate, maxThroughput, type Target } from './lib/load.js';
import { cpuSeconds, gatewayEntry, listeningPort, median, pinSelf, SERVER_NODE_FLAGS, spawnPinned, waitFor200 } from './lib/proc.js';
import { openRunScope } from './lib/run-scope.js';
import { childrenOf } from '../test/helpers/cluster.js';
import { freePort } from '../test/helpers/ports.js';
import { messagesBody } from './lib/requests.js';
import { startBenchRedis } from './lib/redis-server.js';
import { workersConfig, workersEnv } from './lib/workers-config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, trials: { type: 'string', default: '3' }, rate: { type: 'string' } } });
const SECONDS = Number(args.seconds);
const TRIALS = Number(args.trials);
const RATE = args.rate === undefined ? undefined : Number(args.rate);
const CORES = cpus().length;
const PIN = CORES >= 2;
const tsx = '--import=tsx';
if (PIN) pinSelf(1);

interface Arm {
  name: string;
  processes: number;
  serving: number;
  pinned: boolean;
  target: Target;
  /** The serving process, or the cluster's primary. */
  pid: number;
}

const body = (): string => messagesBody(1024);

/** The run's temp folder (the arms' configs and audit files) and every process it started. */
const { dir, started, cleanUp } = openRunScope('gw-bench-workers-');

async function main(): Promise<void> {
  const core = (c: number): number | undefined => (PIN ? c : undefined);

  const mock = spawnPinned(core(1), [tsx, path.join(here, 'lib/mock-upstream.ts'), '0']);
  started.push(mock);
  const mockUrl = `http://127.0.0.1:${await listeningPort(mock)}`;

  const { redis, ready } = await startBenchRedis(core(1));
  started.push(redis);
  await ready;

  const b = body();
  const arms: Arm[] = [];
  const bare = async (name: string, workers: number | undefined, pin: number | undefined): Promise<void> => {
    const port = await freePort();
    const s = workers === undefined
      ? spawnPinned(pin, [...SERVER_NODE_FLAGS, tsx, path.join(here, 'lib/bare-proxy.ts'), mockUrl, String(port)])
      : spawnPinned(pin, [...SERVER_NODE_FLAGS, tsx, path.join(here, 'lib/bare-cluster.ts'), mockUrl, String(port), String(workers)]);
    started.push(s);
    await listeningPort(s);
    const url = `http://127.0.0.1:${port}/v1/messages`;
    await waitFor200(url, { method: 'POST', body: b });
    arms.push({ name, processes: workers === undefined ? 1 : workers + 1, serving: workers ?? 1, pinned: pin !== undefined, target: { url, headers: {}, body: b }, pid: s.pid });
  };
  const gateway = async (name: string, workers: number, pin: number | undefined): Promise<void> => {
    const port = await freePort();
    const file = path.join(dir, `${name}.yaml`);
    writeFileSync(file, workersConfig(workers));
    const s = spawnPinned(pin, [...SERVER_NODE_FLAGS, gatewayEntry(root), '--config', file], {
      AI_GATEWAY_PORT: String(port),
      MOCK_UPSTREAM: mockUrl,
      AUDIT_FILE: path.join(dir, `${name}.audit.jsonl`),
      ANTHROPIC_API_KEY: 'sk-bench',
      ...workersEnv(redis.url),
    });
    started.push(s);
    let err = '';
    s.child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const url = `http://127.0.0.1:${port}/v1/claude/v1/messages`;
    const headers = { 'x-workspace-id': 'ws-bench', 'anthropic-version': '2023-06-01' };
    // A gateway that cannot start says why on stderr: show it rather than only the timeout.
    await waitFor200(url, { method: 'POST', body: b, headers: { 'content-type': 'application/json', ...headers } }).catch((e: Error) => {
      throw new Error(`${name}: ${e.message}\n${s.stderr()}`);
    });
    if (workers > 1) while (!err.includes('"cluster ready"')) await sleep(20);
    arms.push({ name, processes: workers > 1 ? workers + 1 : 1, serving: workers, pinned: pin !== undefined, target: { url, headers, body: b }, pid: s.pid });
  };

  await bare('bare', undefined, core(0));
  await bare('bare cluster×1', 1, core(0));
  await bare('bare cluster×2', 2, undefined);
  await gateway('gateway workers:1', 1, core(0));
  await gateway('gateway workers:2', 2, undefined);
  await bare('bare, unpinned', undefined, undefined);
  await gateway('gateway workers:1, unpinned', 1, undefined);

  // Pinned arms: load, mock and Redis on core 1. Unpinned arms: they float over every core too,
  // as the server's workers do, rather than crowd core 1 while core 0 idles between workers.
  const place = (pinned: boolean): void => {
    if (!PIN) return;
    // taskset -a: every thread, libuv's pool included.
    for (const pid of [process.pid, mock.pid, redis.pid]) spawnSync('taskset', ['-a', '-cp', pinned ? '1' : `0-${CORES - 1}`, String(pid)], { stdio: 'ignore' });
  };
  for (const arm of arms) {
    place(arm.pinned);
    await maxThroughput(arm.target, 1); // warm JITs, pools, Redis scripts
  }
  const rps: Record<string, number[]> = {};
  const errors: Record<string, number> = {};
  // CPU µs a request by process, each trial: where a two-worker arm's two cores go.
  const cpu: Record<string, Record<string, number[]>> = {};
  const cpuAtRate: Record<string, Record<string, number[]>> = {};
  const p50AtRate: Record<string, number[]> = {};

  /** Run `load` on the arm, adding each of its processes' CPU µs a request to `into[label]`. */
  const measured = async (arm: Arm, into: Record<string, Record<string, number[]>>, load: () => Promise<{ requests: number }>, label = arm.name): Promise<void> => {
    place(arm.pinned);
    const processes = cpuProcesses(arm.pid, { mock: mock.pid, redis: redis.pid });
    const before = processes.map(([, pid]) => cpuSeconds(pid));
    const ownBefore = process.cpuUsage();
    const { requests } = await load();
    const own = process.cpuUsage(ownBefore);
    const byProcess = (into[label] ??= {});
    processes.forEach(([name, pid], i) => (byProcess[name] ??= []).push(((cpuSeconds(pid) - before[i]) * 1e6) / requests));
    (byProcess['load generator'] ??= []).push((own.user + own.system) / requests);
  };
  const order = (trial: number): Arm[] => (trial % 2 === 0 ? arms : [...arms].reverse());
  for (let trial = 0; trial < TRIALS; trial++) {
    for (const arm of order(trial)) {
      await measured(arm, cpu, async () => {
        const r = await maxThroughput(arm.target, SECONDS);
        (rps[arm.name] ??= []).push(r.rps);
        errors[arm.name] = (errors[arm.name] ?? 0) + r.errors + r.non2xx;
        process.stderr.write(`trial ${trial + 1} ${arm.name}: ${r.rps.toFixed(0)} req/s, ${r.errors + r.non2xx} errors\n`);
        return r;
      });
    }
  }
  // At the rate, every arm; and each unpinned single process at half of it, what each of two
  // workers serves: a process's CPU a request grows as its own rate falls.
  const rateRuns = (trial: number): Array<{ arm: Arm; rate: number; label: string }> =>
    order(trial).flatMap((arm) => {
      const full = { arm, rate: RATE!, label: arm.name };
      return arm.serving === 1 && !arm.pinned ? [full, { arm, rate: RATE! / 2, label: `${arm.name}, at ${RATE! / 2} req/s` }] : [full];
    });
  for (let trial = 0; RATE !== undefined && trial < TRIALS; trial++) {
    for (const { arm, rate, label } of rateRuns(trial)) {
      place(arm.pinned);
      await latencyAtRate(arm.target, rate, 1); // settle at the rate
      await measured(arm, cpuAtRate, async () => {
        const l = await latencyAtRate(arm.target, rate, SECONDS);
        (p50AtRate[label] ??= []).push(l.p50);
        errors[arm.name] = (errors[arm.name] ?? 0) + l.errors;
        process.stderr.write(`trial ${trial + 1} ${arm.name} at ${rate} req/s: p50 ${l.p50.toFixed(3)} ms, ${l.errors} errors\n`);
        return { requests: l.samples };
      }, label);
    }
  }
  await cleanUp();

  const med = (name: string): number => median(rps[name] ?? []);
  const floor: Record<string, string> = { 'gateway workers:1': 'bare', 'gateway workers:2': 'bare cluster×2', 'gateway workers:1, unpinned': 'bare, unpinned' };
  const rows = arms.map((a) => ({
    arm: a.name,
    processes: a.processes,
    serving: a.serving,
    placement: a.pinned ? 'server on core 0; load, mock, Redis on core 1' : `unpinned: server, load, mock, Redis share all ${CORES} cores`,
    rps: Math.round(med(a.name)),
    errors: errors[a.name] ?? 0,
    vs_bare: floor[a.name] ? med(a.name) / med(floor[a.name]) : undefined,
  }));
  const scaling = med('gateway workers:2') / med('gateway workers:1');
  const bareScaling = med('bare cluster×2') / med('bare');
  const scalingPlacedAlike = med('gateway workers:2') / med('gateway workers:1, unpinned');
  const bareScalingPlacedAlike = med('bare cluster×2') / med('bare, unpinned');
  process.stdout.write(`\nreq/s, 1 KB POST, autocannon 16 connections, ${SECONDS} s × ${TRIALS} trials (median), ${CORES} cores, Node ${process.version}\n`);
  process.stdout.write(`| arm | processes | serving | placement | req/s | errors | ÷ bare, same processes |\n|---|---|---|---|---|---|---|\n`);
  for (const r of rows) process.stdout.write(`| ${r.arm} | ${r.processes} | ${r.serving} | ${r.placement} | ${r.rps} | ${r.errors} | ${r.vs_bare === undefined ? '' : r.vs_bare.toFixed(2)} |\n`);
  process.stdout.write(`\ngateway 2 workers ÷ 1 worker: ${scaling.toFixed(2)}; bare 2 workers ÷ 1 process: ${bareScaling.toFixed(2)}\n`);
  process.stdout.write(`the same against the single process unpinned, placed as the 2 workers are: gateway ${scalingPlacedAlike.toFixed(2)}; bare ${bareScalingPlacedAlike.toFixed(2)}\n`);
  const cpuLines = (title: string, from: Record<string, Record<string, number[]>>, extra: (label: string) => string): void => {
    process.stdout.write(`\n${title} (median of trials; from /proc's 10 ms ticks):\n`);
    for (const [label, byProcess] of Object.entries(from)) {
      const parts = Object.entries(byProcess).map(([name, values]) => [name, median(values)] as const);
      const total = parts.reduce((sum, [, v]) => sum + v, 0);
      process.stdout.write(`${label}: ${parts.map(([name, v]) => `${name} ${v.toFixed(0)}`).join(', ')}; all ${total.toFixed(0)}${extra(label)}\n`);
    }
  };
  cpuLines('CPU µs a request by process, at max throughput', cpu, () => '');
  if (RATE !== undefined) {
    cpuLines(`CPU µs a request by process, at ${RATE} req/s unless said`, cpuAtRate, (label) => `; latency p50 ${median(p50AtRate[label] ?? []).toFixed(3)} ms`);
    process.stdout.write(`(A worker's µs a request of the arm is twice that per request of its own: compare it with the single process at ${RATE / 2} req/s.)\n`);
  }
  if (CORES <= 2) process.stdout.write(`Note: with ${CORES} cores the 2-worker arms share the CPUs with the load generator, the mock upstream and Redis; their gain is a lower bound of what 2 dedicated cores give.\n`);
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'workers.json'), JSON.stringify({ date: new Date().toISOString(), cores: CORES, node: process.version, seconds: SECONDS, trials: TRIALS, rows, scaling, bareScaling, scalingPlacedAlike, bareScalingPlacedAlike, cpuPerRequest: cpu, ...(RATE === undefined ? {} : { rate: RATE, cpuPerRequestAtRate: cpuAtRate, p50AtRateMs: p50AtRate }) }, null, 2));
}

/** The arm's processes by role: the server (or a cluster's primary), its workers, the mock and Redis. */
function cpuProcesses(serverPid: number, others: Record<string, number>): Array<[string, number]> {
  const workers = childrenOf(serverPid);
  const server: Array<[string, number]> = workers.length === 0 ? [['server', serverPid]] : [['primary', serverPid], ...workers.map((pid, i): [string, number] => [`worker ${i + 1}`, pid])];
  return [...server, ...Object.entries(others)];
}

// A failed arm (a gateway that would not start) must not leave the others serving.
await main().catch(async (err: unknown) => {
  await cleanUp();
  throw err;
});
