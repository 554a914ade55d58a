/**
 * How many gateway requests a second ONE Redis core carries for the rate limiter: Redis's
 * own CPU a script call, measured at saturation. The README only estimated it ("a single
 * Redis serves on the order of 100,000 such calls per second"); this measures it, and
 * compares two checkouts' scripts in the same run, as the GCRA script is rewritten.
 *
 *   npx tsx bench/redis-capacity.ts [--seconds 5] [--trials 3] [--connections 32] [--users 100000]
 *   npx tsx bench/redis-capacity.ts --baseline /tmp/old   # before/after: another checkout's script too
 *
 * Run it from the repo root. Each arm is a checkout: this one, and with `--baseline DIR` the
 * one at DIR (a worktree at an older commit, its node_modules symlinked). An arm's script is
 * `gcra.lua` from DIR/filters/rate-limit/gcra.ts, sent the keys the gateway sends: the first
 * `gcra.redisKeys` (default all) of limiter.ts's `GCRA_KEYS` (before it was exported, the
 * four `rpm`, `rpm:at`, `tpm`, `tpm:at`), as `aigw:{<group>}:<key>`.
 *
 * Workloads, each a line for each arm:
 * - request: one gateway request, a reserve in the global scope and one in a user's (random
 *   among `--users`, cost 1 request and 1000 tokens) in one write, as the limiter sends it;
 *   at pipeline 2 (one request a write) and 16 (eight, the saturation figure). Limits: global
 *   1e8 rpm and 1e11 tpm, users 600 rpm and 1e6 tpm, so nearly everything is admitted (the
 *   refused column says how much was not).
 * - user reserve, global reserve, adjust: one kind of call alone, to show its own cost. An
 *   adjust is a reconcile as the limiter batches it: mode 1, request dimension skipped (limit
 *   -1, as the limiter sends it when the request count is unchanged), -500 tokens, on users
 *   whose token bucket a reserve of the whole limit filled first (untimed), so it takes the
 *   write path a real reconcile takes rather than hitting empty keys.
 * - floor: EVALSHA of `return 1` with the user reserve's keys and arguments: what EVALSHA
 *   itself costs (parsing, the Lua call, the reply), beneath any script.
 * FLUSHALL before each, so one workload's keys do not shape the next.
 *
 * Why it is built this way:
 * - Closed loop at a fixed pipeline: each of `--connections` sockets (default 32, as
 *   replicas × workers would hold) writes a batch of D commands, waits for all D replies and
 *   writes the next. Redis's CPU a call then depends on D (read/write syscalls and event-loop
 *   turns are shared by the batch), not on the load generator's timing.
 * - Prebuilt RESP: the batches are encoded before the clock starts (a pool covering every
 *   user once, shuffled, so each user's keys come round at an even, low rate), and replies
 *   are counted by a byte-level skipper, not parsed: the load generator, one Node process,
 *   must outrun one Redis core. ioredis on this side would be the bottleneck.
 * - Pinned: Redis on core 1, this load generator on core 0 (every thread). Redis's CPU comes
 *   from /proc (user + system) over the window; "Redis CPU %" near 100 says Redis was the
 *   bottleneck, so its µs a call is the cost at saturation. Well below 100, the load generator
 *   was (its own CPU % is printed too) and the figure is a rate-limited one.
 * Each workload runs 1 s to warm up, then `--seconds`; `--trials` times, arms in turn,
 * alternating their order trial by trial; medians are reported. Any error reply (NOSCRIPT,
 * a Lua error) stops the run with the first one. Prints a table and writes
 * bench/results/redis-capacity.json. The default run (one arm) takes about two minutes, twice
 * that with a baseline.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { cpuSplit, median, pinSelf, type Started } from './lib/proc.js';
import { startBenchRedis } from './lib/redis-server.js';
import { FLOOR_LUA, loadArm, REQUEST_DEPTH, SATURATION_DEPTH, WORKLOADS, type Arm, type Workload } from './lib/gcra-workloads.js';
import { connect, LoadConnection, throwIfFailed } from './lib/resp-load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    trials: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    users: { type: 'string', default: '100000' },
    baseline: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const TRIALS = Number(args.trials);
const CONNECTIONS = Number(args.connections);
const USERS = Number(args.users);
const WARMUP_MS = 1000;
/** Pools cover every user once, up to this many units (a unit: one request, or one call). */
const MAX_POOL_UNITS = 1 << 17;

const PIN = cpus().length >= 2;
const REDIS_CORE = PIN ? 1 : undefined;
const LOAD_CORE = 0;


/** A small seeded generator, so every arm is sent the same users in the same order. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The pool's users: every user once, shuffled; past {@link MAX_POOL_UNITS} users, a random draw. */
function poolGroups(seed: number): string[] {
  const random = mulberry32(seed);
  const units = Math.min(USERS, MAX_POOL_UNITS);
  let ids: number[];
  if (USERS <= MAX_POOL_UNITS) {
    ids = Array.from({ length: USERS }, (_, i) => i);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
  } else ids = Array.from({ length: units }, () => Math.floor(random() * USERS));
  return ids.map((id) => `rl:u:user-${id}`);
}

/** Batches of `depth` commands: consecutive units, each batch one prebuilt buffer. */
function batches(groups: readonly string[], depth: number, calls: number, command: (group: string) => string): Buffer[] {
  const unitsPerBatch = depth / calls;
  const out: Buffer[] = [];
  for (let at = 0; at + unitsPerBatch <= groups.length; at += unitsPerBatch) {
    let text = '';
    for (let u = at; u < at + unitsPerBatch; u++) text += command(groups[u]);
    out.push(Buffer.from(text, 'latin1'));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// One measurement: a workload on an arm, from a flushed Redis.

interface Sample {
  arm: string;
  workload: string;
  pipeline: number;
  trial: number;
  callsPerSecond: number;
  /** Redis's CPU (user + system) over the window, as a share of one core. */
  redisCpuShare: number;
  redisUserShare: number;
  redisUsPerCall: number;
  /** `INFO commandstats` EVALSHA time a call (inside the command: the script and its calls). */
  evalshaUsPerCall: number;
  /** This load generator's CPU, as a share of one core. */
  loadCpuShare: number;
  refusedShare: number;
}

/** The numeric fields of a sample, the ones a median is taken of. */
type Figure = Exclude<keyof Sample, 'arm' | 'workload'>;

interface Snapshot {
  atMs: number;
  replies: number;
  refused: number;
  redis: { user: number; system: number };
  load: NodeJS.CpuUsage;
  evalsha: { calls: number; usec: number };
}

interface Bench {
  /** Set-up and snapshots (SCRIPT LOAD, FLUSHALL, INFO), one command at a time. */
  control: Redis;
  conns: LoadConnection[];
  redisPid: number;
}

async function evalshaStats(control: Redis): Promise<{ calls: number; usec: number }> {
  const info = await control.info('commandstats');
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(info);
  return m ? { calls: Number(m[1]), usec: Number(m[2]) } : { calls: 0, usec: 0 };
}

async function snapshot(bench: Bench): Promise<Snapshot> {
  const atMs = performance.now();
  const redis = cpuSplit(bench.redisPid);
  const load = process.cpuUsage();
  let replies = 0;
  let refused = 0;
  for (const c of bench.conns) {
    replies += c.counter.replies;
    refused += c.counter.refused;
  }
  return { atMs, replies, refused, redis, load, evalsha: await evalshaStats(bench.control) };
}

function sampleOf(arm: Arm, workload: Workload, trial: number, a: Snapshot, b: Snapshot): Sample {
  const seconds = (b.atMs - a.atMs) / 1000;
  const calls = b.replies - a.replies;
  const redisUser = b.redis.user - a.redis.user;
  const redisCpu = redisUser + b.redis.system - a.redis.system;
  const loadCpu = (b.load.user - a.load.user + b.load.system - a.load.system) / 1e6;
  const evalshaCalls = b.evalsha.calls - a.evalsha.calls;
  return {
    arm: arm.name,
    workload: workload.name,
    pipeline: workload.depth,
    trial,
    callsPerSecond: calls / seconds,
    redisCpuShare: redisCpu / seconds,
    redisUserShare: redisUser / seconds,
    redisUsPerCall: (redisCpu * 1e6) / calls,
    evalshaUsPerCall: evalshaCalls > 0 ? (b.evalsha.usec - a.evalsha.usec) / evalshaCalls : NaN,
    loadCpuShare: loadCpu / seconds,
    refusedShare: (b.refused - a.refused) / calls,
  };
}

/** Each connection's share of `all`, sent once (in batches of `depth`); every reserve must be admitted. */
async function prefill(bench: Bench, all: readonly Buffer[], depth: number): Promise<void> {
  const refused = (): number => bench.conns.reduce((sum, c) => sum + c.counter.refused, 0);
  const before = refused();
  const share = Math.ceil(all.length / bench.conns.length);
  await Promise.all(bench.conns.map((c, i) => c.runOnce(all.slice(i * share, (i + 1) * share), depth)));
  throwIfFailed(bench.conns, 'prefill');
  if (refused() > before) throw new Error(`prefill: ${refused() - before} reserves refused; the adjusts would not find the buckets filled`);
}

async function measure(bench: Bench, arm: Arm, workload: Workload, seed: number, trial: number): Promise<Sample> {
  await bench.control.flushall();
  const groups = poolGroups(seed);
  if (workload.prefill) await prefill(bench, batches(groups, SATURATION_DEPTH, 1, (g) => workload.prefill!(arm, g)), SATURATION_DEPTH);
  const pool = batches(groups, workload.depth, workload.calls, (g) => workload.unit(arm, g));
  const { conns } = bench;
  conns.forEach((c, i) => c.start(pool, Math.floor((i * pool.length) / conns.length), workload.depth));
  try {
    await sleep(WARMUP_MS);
    throwIfFailed(conns, `${arm.name}, ${workload.name}`);
    const before = await snapshot(bench);
    await sleep(SECONDS * 1000);
    const after = await snapshot(bench);
    throwIfFailed(conns, `${arm.name}, ${workload.name}`);
    return sampleOf(arm, workload, trial, before, after);
  } finally {
    await Promise.all(conns.map((c) => c.stop()));
  }
}

// ---------------------------------------------------------------------------------------
// The run.

const started: Started[] = [];

async function stopAll(): Promise<void> {
  while (started.length > 0) await started.pop()!.stop();
}

function redisVersion(): string {
  const out = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /v=(\S+)/.exec(out)?.[1] ?? (out.trim() || 'unknown');
}

interface Row {
  arm: string;
  workload: string;
  pipeline: number;
  callsPerSecond: number;
  redisCpuShare: number;
  redisUsPerCall: number;
  /** The fastest and slowest trials' Redis µs a call: on a shared or virtual machine, the noise. */
  redisUsRange: [number, number];
  evalshaUsPerCall: number;
  loadCpuShare: number;
  refusedShare: number;
  /** 1e6 / (Redis CPU µs a gateway request): request rows only. */
  requestsPerRedisCore: number | undefined;
}

function medianRow(arm: Arm, workload: Workload, samples: readonly Sample[]): Row {
  const mine = samples.filter((s) => s.arm === arm.name && s.workload === workload.name && s.pipeline === workload.depth);
  const med = (key: Figure): number => median(mine.map((s) => s[key]));
  const usPerCall = med('redisUsPerCall');
  return {
    arm: arm.name,
    workload: workload.name,
    pipeline: workload.depth,
    callsPerSecond: med('callsPerSecond'),
    redisCpuShare: med('redisCpuShare'),
    redisUsPerCall: usPerCall,
    redisUsRange: [Math.min(...mine.map((s) => s.redisUsPerCall)), Math.max(...mine.map((s) => s.redisUsPerCall))],
    evalshaUsPerCall: med('evalshaUsPerCall'),
    loadCpuShare: med('loadCpuShare'),
    refusedShare: med('refusedShare'),
    requestsPerRedisCore: workload.requestsPerCall === undefined ? undefined : 1e6 / (usPerCall / workload.requestsPerCall),
  };
}

function printTable(header: string, arms: readonly Arm[], rows: readonly Row[]): void {
  const out = process.stdout;
  out.write(`\n${header}\n`);
  for (const arm of arms) out.write(`  ${arm.name}: ${arm.dir}, ${arm.keys.length} key(s) a call (${arm.keys.join(', ')}), script ${arm.sha.slice(0, 12)}\n`);
  out.write('\n| arm | workload | pipeline | calls/s | Redis CPU % | Redis µs a call (trials min–max) | EVALSHA µs a call (commandstats) | requests/s a Redis core | load generator CPU % | refused % |\n');
  out.write('|---|---|---|---|---|---|---|---|---|---|\n');
  const pct = (share: number): string => (share * 100).toFixed(share < 0.001 && share > 0 ? 3 : 1);
  for (const r of rows) {
    const perCore = r.requestsPerRedisCore === undefined ? '' : Math.round(r.requestsPerRedisCore).toLocaleString('en-US');
    out.write(
      `| ${r.arm} | ${r.workload} | ${r.pipeline} | ${Math.round(r.callsPerSecond).toLocaleString('en-US')} | ${pct(r.redisCpuShare)} | ${r.redisUsPerCall.toFixed(2)} (${r.redisUsRange.map((us) => us.toFixed(1)).join('–')}) | ${r.evalshaUsPerCall.toFixed(2)} | ${perCore} | ${pct(r.loadCpuShare)} | ${pct(r.refusedShare)} |\n`,
    );
  }
}

/** Below this share of its core, Redis was not the bottleneck: its µs a call is not a saturation figure. */
const SATURATED = 0.9;

function warnUnsaturated(rows: readonly Row[]): void {
  const low = rows.filter((r) => r.redisCpuShare < SATURATED);
  if (low.length === 0) return;
  process.stdout.write(
    `\nNot saturated: Redis used under ${SATURATED * 100} % of its core in ${low.length} of ${rows.length} rows ` +
      `(${low.map((r) => `${r.arm}, ${r.workload} ×${r.pipeline}`).join('; ')}): the load generator could not keep up, ` +
      'or another process took a core (check `top`); those rows\' µs a call are not saturation figures.\n',
  );
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
  if (PIN) pinSelf(LOAD_CORE);
  const armSpecs: Array<[string, string]> = [['current', root], ...(args.baseline ? [['baseline', path.resolve(args.baseline)] as [string, string]] : [])];
  const loaded: Array<Omit<Arm, 'sha' | 'floorSha'>> = [];
  for (const [name, dir] of armSpecs) loaded.push(await loadArm(name, dir));

  const { redis, ready } = await startBenchRedis(REDIS_CORE);
  started.push(redis);
  await ready;
  const port = Number(new URL(redis.url).port);
  const control = new Redis(redis.url);
  const conns: LoadConnection[] = [];
  try {
    for (let i = 0; i < CONNECTIONS; i++) conns.push(new LoadConnection(await connect(port)));
    const bench: Bench = { control, conns, redisPid: redis.pid };
    const floorSha = String(await control.script('LOAD', FLOOR_LUA));
    const arms: Arm[] = [];
    for (const arm of loaded) arms.push({ ...arm, sha: String(await control.script('LOAD', arm.lua)), floorSha });

    const samples: Sample[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const order = trial % 2 === 0 ? arms : [...arms].reverse();
      for (const [w, workload] of WORKLOADS.entries()) {
        for (const arm of order) {
          const s = await measure(bench, arm, workload, 1000 * trial + w + 1, trial);
          samples.push(s);
          process.stderr.write(
            `trial ${trial + 1} ${arm.name}, ${workload.name} ×${workload.depth}: ${Math.round(s.callsPerSecond)} calls/s, Redis ${(s.redisCpuShare * 100).toFixed(0)} % CPU, ${s.redisUsPerCall.toFixed(2)} µs a call\n`,
          );
        }
      }
    }

    const rows = WORKLOADS.flatMap((w) => arms.map((arm) => medianRow(arm, w, samples)));
    const pinning = PIN ? `redis-server on core ${REDIS_CORE}, this load generator on core ${LOAD_CORE} (taskset, all threads)` : 'unpinned (fewer than 2 cores)';
    const header =
      `Redis CPU a rate-limit script call, closed loop: ${pinning}; redis-server ${redisVersion()}, Node ${process.version}; ` +
      `U=${USERS} users, C=${CONNECTIONS} connections, D=${REQUEST_DEPTH} (a request a write) and ${SATURATION_DEPTH} (saturation) commands a batch; ` +
      `${SECONDS} s after ${WARMUP_MS / 1000} s warm-up × ${TRIALS} trials (median)`;
    printTable(header, arms, rows);
    warnUnsaturated(rows);
    mkdirSync(path.join(here, 'results'), { recursive: true });
    writeFileSync(
      path.join(here, 'results', 'redis-capacity.json'),
      JSON.stringify(
        {
          date: new Date().toISOString(),
          node: process.version,
          redis: redisVersion(),
          pinning,
          users: USERS,
          connections: CONNECTIONS,
          seconds: SECONDS,
          trials: TRIALS,
          arms: arms.map(({ name, dir, keys, sha }) => ({ name, dir, keys, sha })),
          rows,
          samples,
        },
        null,
        2,
      ),
    );
  } finally {
    for (const c of conns) c.close();
    control.disconnect();
    await stopAll();
  }
}

await main();
