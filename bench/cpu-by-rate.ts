/**
 * CPU a request as the offered rate changes, for one process of each: the bare proxy, the
 * gateway on the memory store and the gateway on a Redis store. A Node server's CPU a
 * request is not a constant: at a low rate each request wakes an idle event loop on caches
 * other processes used meanwhile, at a high one a wake-up serves several. This measures
 * that curve, splits it into user and system time, and counts the event loop's wake-ups
 * (the main thread's voluntary context switches) a request; it is what explains why two
 * `server.workers`, each at half the rate, cost more a request than one process
 * (bench/workers.ts). First, each arm idle: its wake-ups and CPU (the scheduler's count, all
 * threads) a second with no traffic, the timers' own cost. For every arm it also prints
 * Redis's CPU a request over the same window (~0 for the arms that do not use it).
 *
 *   npm run build && npx tsx bench/cpu-by-rate.ts [--rates 625,1250,2500,5000] [--seconds 8] [--trials 3]
 *   npx tsx bench/cpu-by-rate.ts --baseline /tmp/old/dist/bin/ai-gateway.cjs   # before/after, same run
 *
 * `--baseline ENTRY` adds that build of the gateway (another checkout's, built) on each
 * store as arms of their own, measured in turn with the others.
 *
 * Each server on core 0, measured alone; the open-loop load generator (16 connections), the
 * mock and Redis on core 1. Rates and arms alternate in order trial by trial. Prints a table
 * and writes bench/results/cpu-by-rate.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../test/helpers/ports.js';
import { latencyAtRate, maxThroughput, type Target } from './lib/load.js';
import { cpuSplit, gatewayEntry, listeningPort, loopWakeups, median, pinSelf, schedCpuMs, SERVER_NODE_FLAGS, spawnPinned, waitFor200 } from './lib/proc.js';
import { openRunScope } from './lib/run-scope.js';
import { messagesBody } from './lib/requests.js';
import { startBenchRedis } from './lib/redis-server.js';
import { benchGatewayEnv, GATEWAY_HEADERS } from './lib/servers.js';
import { workersEnv } from './lib/workers-config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const { values: args } = parseArgs({ options: { rates: { type: 'string', default: '625,1250,2500,5000' }, seconds: { type: 'string', default: '8' }, trials: { type: 'string', default: '3' }, baseline: { type: 'string' } } });
const RATES = args.rates.split(',').map(Number);
const SECONDS = Number(args.seconds);
const TRIALS = Number(args.trials);
pinSelf(1);

interface Arm {
  name: string;
  pid: number;
  target: Target;
}

/** One measurement's figures a request. */
interface Sample {
  cpuUs: number;
  userUs: number;
  systemUs: number;
  wakeups: number;
  /** Redis's own CPU over the window, a request: what a gateway on the Redis store costs the shared Redis. */
  redisUs: number;
  p50Ms: number;
  errors: number;
}

/** The run's temp folder (the arms' configs and audit files) and every process it started. */
const { dir, started, cleanUp } = openRunScope('gw-bench-rate-');

async function main(): Promise<void> {
  const mock = spawnPinned(1, ['--import=tsx', path.join(here, 'lib/mock-upstream.ts'), '0']);
  started.push(mock);
  const mockUrl = `http://127.0.0.1:${await listeningPort(mock)}`;
  const { redis, ready } = await startBenchRedis(1);
  started.push(redis);
  await ready;

  const body = messagesBody(1024);
  const arms: Arm[] = [];
  const barePort = await freePort();
  const bare = spawnPinned(0, [...SERVER_NODE_FLAGS, '--import=tsx', path.join(here, 'lib/bare-proxy.ts'), mockUrl, String(barePort)]);
  started.push(bare);
  await listeningPort(bare);
  arms.push({ name: 'bare', pid: bare.pid, target: { url: `http://127.0.0.1:${barePort}/v1/messages`, headers: {}, body } });
  const stores = [['memory store', {}], ['Redis store', workersEnv(redis.url)]] as const;
  const builds = [['gateway', gatewayEntry(root)], ...(args.baseline ? [['baseline', path.resolve(args.baseline)]] : [])] as const;
  for (const [build, entry] of builds) for (const [store, env] of stores) {
    const name = `${build}, ${store}`;
    const port = await freePort();
    const s = spawnPinned(0, [...SERVER_NODE_FLAGS, entry, '--config', path.join(here, 'gateway.yaml')], { ...benchGatewayEnv(port, mockUrl, path.join(dir, `${arms.length}.audit.jsonl`)), ...env });
    started.push(s);
    const url = `http://127.0.0.1:${port}/v1/claude/v1/messages`;
    await waitFor200(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...GATEWAY_HEADERS } }).catch((e: Error) => {
      throw new Error(`${name}: ${e.message}\n${s.stderr()}`);
    });
    arms.push({ name, pid: s.pid, target: { url, headers: { ...GATEWAY_HEADERS }, body } });
  }
  for (const arm of arms) await maxThroughput(arm.target, 2); // warm JITs, pools, Redis scripts

  // Idle: after the warm-up, with keep-alive connections closed by their clients. Every arm
  // is idle at once, so each trial is one window for all.
  const idle = new Map<string, Array<{ wakeups: number; cpuMs: number }>>();
  for (let trial = 0; trial < TRIALS; trial++) {
    const before = arms.map((arm) => ({ cpu: schedCpuMs(arm.pid).all, wakeups: loopWakeups(arm.pid) }));
    await sleep(SECONDS * 1000);
    arms.forEach((arm, i) => {
      const sample = { wakeups: (loopWakeups(arm.pid) - before[i].wakeups) / SECONDS, cpuMs: (schedCpuMs(arm.pid).all - before[i].cpu) / SECONDS };
      append(idle, arm.name, sample);
    });
  }

  const samples = new Map<string, Sample[]>();
  for (let trial = 0; trial < TRIALS; trial++) {
    const rates = trial % 2 === 0 ? RATES : [...RATES].reverse();
    for (const rate of rates) {
      for (const arm of trial % 2 === 0 ? arms : [...arms].reverse()) {
        await latencyAtRate(arm.target, rate, 1); // settle at the rate
        const cpu = cpuSplit(arm.pid);
        const redisCpu = cpuSplit(redis.pid);
        const wakeups = loopWakeups(arm.pid);
        const l = await latencyAtRate(arm.target, rate, SECONDS);
        const after = cpuSplit(arm.pid);
        const redisAfter = cpuSplit(redis.pid);
        const n = l.samples;
        const sample: Sample = {
          userUs: ((after.user - cpu.user) * 1e6) / n,
          systemUs: ((after.system - cpu.system) * 1e6) / n,
          cpuUs: ((after.user + after.system - cpu.user - cpu.system) * 1e6) / n,
          wakeups: (loopWakeups(arm.pid) - wakeups) / n,
          redisUs: ((redisAfter.user + redisAfter.system - redisCpu.user - redisCpu.system) * 1e6) / n,
          p50Ms: l.p50,
          errors: l.errors,
        };
        append(samples, `${arm.name}@${rate}`, sample);
        process.stderr.write(`trial ${trial + 1} ${arm.name} at ${rate} req/s: ${sample.cpuUs.toFixed(0)} µs a request, p50 ${l.p50.toFixed(3)} ms, ${l.errors} errors\n`);
      }
    }
  }
  await cleanUp();

  const med = (name: string, rate: number, key: keyof Sample): number => median((samples.get(`${name}@${rate}`) ?? []).map((s) => s[key]));
  const rows = RATES.flatMap((rate) =>
    arms.map((arm) => ({
      rate,
      arm: arm.name,
      cpuUs: med(arm.name, rate, 'cpuUs'),
      userUs: med(arm.name, rate, 'userUs'),
      systemUs: med(arm.name, rate, 'systemUs'),
      wakeups: med(arm.name, rate, 'wakeups'),
      redisUs: med(arm.name, rate, 'redisUs'),
      p50Ms: med(arm.name, rate, 'p50Ms'),
      errors: (samples.get(`${arm.name}@${rate}`) ?? []).reduce((sum, s) => sum + s.errors, 0),
      vsBare: med(arm.name, rate, 'cpuUs') / med('bare', rate, 'cpuUs'),
    })),
  );
  process.stdout.write(`\nCPU a request by offered rate: 1 KB POST, open loop on 16 connections, ${SECONDS} s × ${TRIALS} trials (median), server on core 0 alone, Node ${process.version}\n`);
  process.stdout.write('| req/s | arm | CPU µs a request | user | system | × bare | loop wake-ups a request | Redis CPU µs a request | latency p50 ms | errors |\n|---|---|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.rate} | ${r.arm} | ${r.cpuUs.toFixed(0)} | ${r.userUs.toFixed(0)} | ${r.systemUs.toFixed(0)} | ${r.vsBare.toFixed(2)} | ${r.wakeups.toFixed(2)} | ${r.redisUs.toFixed(1)} | ${r.p50Ms.toFixed(3)} | ${r.errors} |\n`);
  }
  const idleRows = arms.map((arm) => ({ arm: arm.name, wakeupsPerSecond: median((idle.get(arm.name) ?? []).map((s) => s.wakeups)), cpuMsPerSecond: median((idle.get(arm.name) ?? []).map((s) => s.cpuMs)) }));
  process.stdout.write(`\nIdle, ${SECONDS} s × ${TRIALS} (median): wake-ups a second, CPU ms a second (all threads)\n`);
  for (const r of idleRows) process.stdout.write(`| ${r.arm} | ${r.wakeupsPerSecond.toFixed(0)} | ${r.cpuMsPerSecond.toFixed(2)} |\n`);
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'cpu-by-rate.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, seconds: SECONDS, trials: TRIALS, rows, idle: idleRows }, null, 2));
}

function append<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

// A failed arm (a gateway that would not start) must not leave the others serving.
await main().catch(async (err: unknown) => {
  await cleanUp();
  throw err;
});
