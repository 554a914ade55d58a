/**
 * Where a burst's time goes, in both proxies, from Linux `perf` samples cut to the bursts:
 * V8's `--cpu-prof` samples only every ~100 µs here (whatever interval is asked for) and
 * weighs a late sample with all the time before it, so it cannot see a 2 ms burst. `perf`
 * samples every thread of each process (V8's compiler and GC threads included, which share
 * the pinned core), kernel time too; `--perf-basic-prof` names the JIT code.
 *
 *   npx tsx bench/burst-perf.ts              # 60 alternating rounds of 20 streams, after a warm-up
 *   UNIFIED=1 npx tsx bench/burst-perf.ts    # OpenAI streams, the gateway's through its unified endpoint
 *   WARMUP_SECONDS=0 npx tsx bench/burst-perf.ts   # a cold gateway (30 warm-up bursts only)
 *   R=100 HZ=20000 TOP=40 npx tsx bench/burst-perf.ts
 *
 * Needs `perf` (Debian: linux-perf) and permission to attach (root here). Per arm it prints
 * the busy time per burst window (first request − 0.2 ms to last request + 0.5 ms) by kind
 * (JavaScript, V8 and Node C++, kernel by the syscall that entered it, GC), the top leaf
 * symbols and the top JavaScript functions by inclusive time, in µs per burst. Names of JIT
 * code come from perf maps V8 appends to as it moves code, so a few frames can be misnamed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { streams, WARM_SHAPE, warmStreams } from './lib/load.js';
import { pinSelf } from './lib/proc.js';
import { shapeHeaders, type StreamShape } from './lib/requests.js';
import { startServers, streamArms, streamTarget, type StreamArm } from './lib/servers.js';

const ROUNDS = Number(process.env.R ?? 60);
const HZ = Number(process.env.HZ ?? 10_000);
const TOP = Number(process.env.TOP ?? 25);
const WARMUP_SECONDS = Number(process.env.WARMUP_SECONDS ?? 20);
const UNIFIED = process.env.UNIFIED === '1';
/** A burst's window around its request starts (µs). */
const BEFORE = 200;
const AFTER = 500;
/** Request starts further apart than this begin a new burst (µs). */
const BURST_GAP = 30_000;

pinSelf(1);
const dir = mkdtempSync(path.join(tmpdir(), 'burst-perf-'));

// Each proxy notes when each request starts (µs of CLOCK_MONOTONIC, perf's clock with `-k mono`).
const preload = path.join(dir, 'stamps.mjs');
writeFileSync(
  preload,
  `import dc from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
const starts = [];
dc.subscribe('http.server.request.start', () => starts.push(Number(process.hrtime.bigint() / 1000n)));
process.on('SIGTERM', () => { writeFileSync(${JSON.stringify(dir)} + '/stamps.' + process.pid + '.json', JSON.stringify(starts)); process.exit(0); });
`,
);

/** The bursts' streams, as burst-ttfb.ts sends them by default. */
const SHAPE: StreamShape = { frames: 8, intervalMs: 5, ttftMs: 20 };

function burst(arm: StreamArm): Promise<unknown> {
  return streams(streamTarget(arm, SHAPE), 20, shapeHeaders(SHAPE));
}

/** Burst windows [from, to] in µs, from one process's request starts. */
function windows(starts: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let last = -Infinity;
  for (const s of starts) {
    if (s - last > BURST_GAP) out.push([s - BEFORE, s + AFTER]);
    else out[out.length - 1][1] = s + AFTER;
    last = s;
  }
  return out;
}

interface Sample {
  time: number;
  /** Leaf first: [symbol, object file]. */
  frames: Array<[string, string]>;
}

/** `perf script` output, samples grouped by pid. */
async function readSamples(file: string): Promise<Map<number, Sample[]>> {
  const byPid = new Map<number, Sample[]>();
  let current: Sample | undefined;
  const lines = createInterface({ input: createReadStream(file) });
  for await (const line of lines) {
    // A sample's line is `<pid> <seconds>:`, the pid padded with spaces to perf's width;
    // its frames follow, one a line, each starting with a tab.
    const head = /^\s*(\d+)\s+([\d.]+):/.exec(line);
    if (head) {
      current = { time: Number(head[2]) * 1e6, frames: [] };
      const pid = Number(head[1]);
      const list = byPid.get(pid) ?? [];
      list.push(current);
      byPid.set(pid, list);
      continue;
    }
    const m = /^\s*[0-9a-f]+ (.*) \((.*)\)$/.exec(line);
    if (m && current) current.frames.push([m[1], m[2]]);
  }
  return byPid;
}

function kindOf(frames: Array<[string, string]>): string {
  if (frames.some(([sym]) => /Heap::|Scaveng|MarkCompact|GCTracer/.test(sym))) return 'GC';
  const [leaf, dso] = frames[0] ?? ['?', '?'];
  if (dso.includes('kernel')) {
    const caller = frames.find(([, d]) => !d.includes('kernel'));
    return `kernel, from ${(caller?.[0] ?? '?').split('@')[0].slice(0, 40)}`;
  }
  if (dso.includes('perf-')) return 'JavaScript';
  if (dso.endsWith('/node')) return /compiler::/.test(leaf) ? 'V8 optimizing compiler' : 'V8 and Node C++';
  return path.basename(dso);
}

function report(arm: StreamArm, samples: Sample[], starts: number[]): void {
  samples.sort((a, b) => a.time - b.time);
  const first = samples[0]?.time ?? 0;
  const last = samples[samples.length - 1]?.time ?? 0;
  const ws = windows(starts).filter(([from, to]) => from > first + 100_000 && to < last - 100_000);
  const per = 1e6 / HZ / Math.max(1, ws.length); // µs per sample per burst
  const kinds = new Map<string, number>();
  const leaves = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (m: Map<string, number>, k: string): void => {
    m.set(k, (m.get(k) ?? 0) + 1);
  };
  let busy = 0;
  let w = 0;
  for (const s of samples) {
    while (w < ws.length && s.time > ws[w][1]) w++;
    if (w >= ws.length) break;
    if (s.time < ws[w][0]) continue;
    busy++;
    add(kinds, kindOf(s.frames));
    add(leaves, (s.frames[0]?.[0] ?? '?').slice(0, 100));
    // A function recursing, or called again further up, counts once per sample.
    const seen = new Set<string>();
    for (const [sym, dso] of s.frames) {
      if (!dso.includes('perf-') || seen.has(sym)) continue;
      seen.add(sym);
      add(inclusive, sym.slice(0, 110));
    }
  }
  const spreads = ws.map(([from, to]) => to - from - BEFORE - AFTER).sort((a, b) => a - b);
  const top = (m: Map<string, number>, n: number): string =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(v * per).toFixed(0).padStart(7)}  ${k}`).join('\n');
  process.stdout.write(`\n== ${arm.name}: ${ws.length} bursts, requests spread over ${(spreads[spreads.length >> 1] ?? 0).toFixed(0)} µs (p50), busy ${(busy * per).toFixed(0)} µs per burst window\n`);
  process.stdout.write(`${top(kinds, 12)}\n-- leaf symbols\n${top(leaves, TOP)}\n-- JavaScript, inclusive\n${top(inclusive, TOP)}\n`);
}

async function main(): Promise<void> {
  const servers = await startServers({ nodeFlags: ['--perf-basic-prof', `--import=${preload}`] });
  const arms = streamArms(servers, UNIFIED);
  const data = path.join(dir, 'perf.data');
  try {
    for (const arm of arms) if (WARMUP_SECONDS > 0) await warmStreams(streamTarget(arm, WARM_SHAPE), WARMUP_SECONDS);
    for (let w = 0; w < 30; w++) for (const arm of arms) await burst(arm);
    const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(HZ), '-g', '-k', 'mono', '-o', data, '-p', arms.map((a) => a.pid).join(',')], { stdio: 'inherit' });
    await sleep(1000);
    for (let r = 0; r < ROUNDS; r++) for (const arm of r % 2 === 0 ? arms : [...arms].reverse()) await burst(arm);
    const exited = new Promise((resolve) => perf.once('exit', resolve));
    perf.kill('SIGINT');
    await exited;
  } finally {
    await servers.stop();
  }
  const script = path.join(dir, 'perf.txt');
  spawnSync('sh', ['-c', `perf script -i ${data} -F pid,time,ip,sym,dso > ${script} 2>/dev/null`]);
  const byPid = await readSamples(script);
  for (const arm of arms) report(arm, byPid.get(arm.pid) ?? [], JSON.parse(readFileSync(path.join(dir, `stamps.${arm.pid}.json`), 'utf8')) as number[]);
  process.stdout.write(`\nµs per burst of 20 streams (${ROUNDS} alternating rounds, perf at ${HZ} Hz, ${UNIFIED ? 'unified endpoint' : 'Anthropic pass-through'}); files in ${dir}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
