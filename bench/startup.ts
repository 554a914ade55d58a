/**
 * Start-up time: spawn `node dist/bin/ai-gateway.cjs` and poll every 2 ms until the first
 * 200, the way `bench/run.ts` takes its "startup to first 200" figure.
 *
 *   npx tsx bench/startup.ts            # 7 runs of each config (after one discarded warm-up)
 *   npx tsx bench/startup.ts --runs 15
 *   npx tsx bench/startup.ts --root /path/to/other/checkout --root .   # compare builds, interleaved and paired
 *   npx tsx bench/startup.ts --arm 'plain' --arm 'heap;NODE_OPTIONS=--max-old-space-size=4096'
 *                                       # compare environments: an arm is a name, then `;KEY=VALUE`s
 *                                       # for the gateway (`{tmp}` in a value: a private temp dir)
 *
 * Three configs: the embedded default (`configs/config.yaml`), polled on GET /health;
 * `bench/gateway.yaml`, polled with a POST through the Anthropic route to a mock upstream
 * in this process, so the figure includes the first request's trip through the whole chain;
 * and that config with its rate limits on the Redis store (a `redis-server` this bench
 * starts on a free loopback port; the row is left out without one), the shape every worker
 * and replica of a shared deployment starts in: it loads ioredis and connects first.
 * Beside them, a bare `node:http` server started the same way: Node's own share here (and,
 * when NODE_EXTRA_CA_CERTS is set, the same server without it: Node 20 parses that file at
 * every start).
 * Runs alternate between the configs. Loopback only; every child is stopped (SIGTERM, then
 * SIGKILL after 5 s) before the next starts. Needs `npm run build` first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createMockUpstream } from './lib/mock-upstream.js';
import { freePort } from '../test/helpers/ports.js';
import { EXTRA_CA_CERTS, gatewayEntry, median, minorFaults, nodeFloorStartup, schedCpuMs, spawnPinned, waitFor200, type Started } from './lib/proc.js';
import { messagesBody } from './lib/requests.js';
import { startBenchRedis, type BenchRedis } from './lib/redis-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '7' }, root: { type: 'string', multiple: true }, arm: { type: 'string', multiple: true } } });
const RUNS = Number(args.runs);
const ROOTS = (args.root ?? [root]).map((r) => path.resolve(r));

/** A build and the environment its gateway starts with: every pair of a root and an arm. */
interface Variant {
  label: string;
  root: string;
  env: Record<string, string>;
}

function variants(tmp: string): Variant[] {
  const arms = (args.arm ?? ['']).map((arm) => {
    const [name, ...pairs] = arm.split(';');
    const env = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1).replaceAll('{tmp}', tmp)]));
    return { name: name!, env };
  });
  return ROOTS.flatMap((r) =>
    arms.map((arm) => {
      const parts = [ROOTS.length > 1 ? path.basename(r) : '', arms.length > 1 ? arm.name : ''].filter(Boolean);
      return { label: parts.length > 0 ? `${parts.join(' ')}: ` : '', root: r, env: arm.env };
    }),
  );
}

interface Case {
  /** The variant's label and the config: the row it reports to. */
  name: string;
  /** Which config, the same for every variant: runs are paired by it. */
  config: string;
  variant: Variant;
  bin: string;
  args: string[];
  env: Record<string, string>;
  probe(port: number): Promise<number>;
}

/** Node's own share on this machine (`nodeFloorStartup`): the rest is the gateway's. */
const FLOOR = 'a bare node:http server (the floor)';
/** The floor again without NODE_EXTRA_CA_CERTS, when it is set (see {@link EXTRA_CA_CERTS}). */
const FLOOR_NO_CA = 'the floor without NODE_EXTRA_CA_CERTS';
const BODY = messagesBody(1024);
const HEADERS = { 'content-type': 'application/json', 'x-workspace-id': 'ws-bench', 'anthropic-version': '2023-06-01' };

interface Samples {
  ms: number[];
  /** CPU ms of the process to its first 200, all threads. */
  cpu: number[];
  /** CPU ms of its main thread alone: the least noisy time when comparing builds. */
  main: number[];
  /** Minor page faults to its first 200 (`minorFaults`): nearly the same run to run. */
  faults: number[];
}

type Sample = { [K in keyof Samples]: number };

async function once(c: Case): Promise<Sample> {
  const port = await freePort();
  const started = performance.now();
  const child: Started = spawnPinned(undefined, [c.bin, ...c.args], { AI_GATEWAY_PORT: String(port), ...c.env });
  const exited = new Promise<never>((_, reject) => child.child.once('exit', (code) => reject(new Error(`${c.name}: the gateway exited (${code}) before answering 200`))));
  exited.catch(() => {});
  try {
    await Promise.race([c.probe(port), exited]);
    const ms = performance.now() - started;
    const cpu = schedCpuMs(child.pid);
    return { ms, cpu: cpu.all, main: cpu.main, faults: minorFaults(child.pid) };
  } finally {
    await child.stop();
  }
}

/**
 * Each later variant against the first, run by run: run i of two variants ran back to back,
 * so the median of their differences shrugs off the machine's slow spells, which move
 * both alike and swing the per-case medians by tens of milliseconds here.
 */
function printPaired(cases: Case[], results: Map<string, Samples>): void {
  const first = cases[0]!.variant;
  process.stdout.write(`\npaired with ${first.label.slice(0, -2)}, run by run: median of the differences (ms)\n`);
  for (const c of cases) {
    if (c.variant === first) continue;
    const base = results.get(cases.find((b) => b.variant === first && b.config === c.config)!.name)!;
    const mine = results.get(c.name)!;
    const diff = (a: number[], b: number[]): string => {
      const d = median(a.map((v, i) => v - b[i]!));
      return `${d >= 0 ? '+' : ''}${d.toFixed(1)}`;
    };
    process.stdout.write(`${c.name}: wall ${diff(mine.ms, base.ms)}, CPU ${diff(mine.cpu, base.cpu)}, main thread ${diff(mine.main, base.main)}, minor faults ${diff(mine.faults, base.faults)}\n`);
  }
}

async function main(): Promise<void> {
  for (const r of ROOTS) if (!existsSync(gatewayEntry(r))) throw new Error(`${gatewayEntry(r)} is missing: run npm run build first`);
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-startup-'));
  const mock = createMockUpstream();
  await new Promise<void>((resolve) => mock.listen(0, '127.0.0.1', resolve));
  const mockUrl = `http://127.0.0.1:${(mock.address() as net.AddressInfo).port}`;
  let redis: BenchRedis | undefined;
  if (spawnSync('redis-server', ['--version']).status === 0) {
    const started = await startBenchRedis(undefined);
    redis = started.redis;
    await started.ready;
  } else process.stderr.write('no redis-server on PATH: the Redis store row is left out\n');
  const all = variants(dir);
  const cases: Case[] = all.flatMap((v) => {
    const r = v.root;
    const configs: Array<Omit<Case, 'name' | 'variant' | 'bin'>> = [
      {
        config: 'default config, GET /health',
        args: [],
        // No AI_GATEWAY_CONFIG: the embedded configs/config.yaml.
        env: { AI_GATEWAY_CONFIG: '' },
        probe: (port) => waitFor200(`http://127.0.0.1:${port}/health`),
      },
      {
        config: 'bench config, POST to the mock',
        args: ['--config', path.join(r, 'bench/gateway.yaml')],
        env: { MOCK_UPSTREAM: mockUrl, AUDIT_FILE: path.join(dir, 'audit.jsonl'), ANTHROPIC_API_KEY: 'sk-bench' },
        probe: (port) => waitFor200(`http://127.0.0.1:${port}/v1/claude/v1/messages`, { method: 'POST', body: BODY, headers: HEADERS }),
      },
    ];
    if (redis) {
      const bench = configs.find((c) => c.config.startsWith('bench config'))!;
      configs.push({ ...bench, config: 'bench config, Redis store, POST', env: { ...bench.env, BENCH_STORE: 'redis', BENCH_REDIS_URL: redis.url } });
    }
    return configs.map((c) => ({ ...c, env: { ...c.env, ...v.env }, name: `${v.label}${c.config}`, variant: v, bin: gatewayEntry(r) }));
  });
  const none = (): Samples => ({ ms: [], cpu: [], main: [], faults: [] });
  const results = new Map<string, Samples>(cases.map((c) => [c.name, none()]));
  results.set(FLOOR, none());
  if (EXTRA_CA_CERTS) results.set(FLOOR_NO_CA, none());
  try {
    for (const c of cases) await once(c); // warm the file cache (and an arm's cache dir); not counted
    await nodeFloorStartup(undefined, await freePort());
    for (let i = 0; i < RUNS; i++) {
      for (const c of i % 2 === 0 ? cases : [...cases].reverse()) {
        const r = await once(c);
        const samples = results.get(c.name)!;
        for (const key of Object.keys(r) as Array<keyof Sample>) samples[key].push(r[key]);
        process.stderr.write(`${c.name}: ${r.ms.toFixed(0)} ms\n`);
      }
      results.get(FLOOR)!.ms.push(await nodeFloorStartup(undefined, await freePort()));
      if (EXTRA_CA_CERTS) results.get(FLOOR_NO_CA)!.ms.push(await nodeFloorStartup(undefined, await freePort(), { NODE_EXTRA_CA_CERTS: '' }));
    }
  } finally {
    await redis?.stop();
    mock.close();
    mock.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  }
  const width = Math.max(FLOOR_NO_CA.length, ...cases.map((c) => c.name.length));
  process.stdout.write(`\nspawn → first 200, ${RUNS} runs each (ms)\n`);
  process.stdout.write(`${'case'.padEnd(width)} ${'median'.padStart(7)} ${'min'.padStart(7)} ${'max'.padStart(7)}   CPU median (main thread)   minor faults\n`);
  for (const [name, r] of results) {
    const f = (v: number): string => v.toFixed(0).padStart(7);
    const cpu = r.cpu.length > 0 ? `${median(r.cpu).toFixed(0)} ms (${median(r.main).toFixed(0)} ms)` : '–';
    const faults = r.faults.length > 0 ? median(r.faults).toFixed(0) : '–';
    process.stdout.write(`${name.padEnd(width)} ${f(median(r.ms))} ${f(Math.min(...r.ms))} ${f(Math.max(...r.ms))}   ${cpu.padEnd(24)} ${faults}\n`);
  }
  if (all.length > 1) printPaired(cases, results);
  if (EXTRA_CA_CERTS) process.stdout.write(`NODE_EXTRA_CA_CERTS=${EXTRA_CA_CERTS}: Node reads it at every start, the gateway's included (the two floors differ by that).\n`);
}

await main();
