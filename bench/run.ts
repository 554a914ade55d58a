/**
 * The gateway benchmark: three arms in the same run — direct to a mock upstream, a bare
 * Node proxy (the floor), and the gateway with its default chain on — in alternating
 * order, several trials, medians reported, every ratio gateway / bare.
 *
 *   npm run bench                 # full run (~15 min, and ~1 min of live-memory rows)
 *   npm run bench -- --quick      # short trials, for a smoke check
 *   GATEWAY_NODE_FLAGS=--trace-gc npm run bench   # node flags for the gateway; its output goes to <tmp>/gateway.out
 *   LIVE_MEMORY=0 npm run bench   # without the live-memory rows (bench/stream-memory.ts, run last, ~1 min)
 *   BURST_LOG=1 npm run bench     # a stderr line per stream burst: its wall-clock start, TTFB p50 and max
 *   npx tsx bench/run.ts --report bench/results/latest.json   # a saved run's tables again (runs nothing)
 *
 * The server under test is pinned to core 0; this process (the load generator) and the
 * mock to core 1. Results: a table on stdout and bench/results/latest.json (a --quick run
 * writes bench/results/quick.json, so it never replaces a full run's figures).
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { frameTransits, latencyAtRate, latencySerial, maxThroughput, mockTimes, newConnections, streams, WARM_SHAPE, warmStreams, type StreamStats, type Target } from './lib/load.js';
import { measureReload } from './lib/reload.js';
import { messagesBody, shapedModel, shapeHeaders, type BodyText, type StreamShape } from './lib/requests.js';
import { cpuSeconds, gatewayEntry, listeningPort, median, percentile, pinSelf, rssBytes, SERVER_NODE_FLAGS, spawnPinned, waitFor200, type Started } from './lib/proc.js';
import { floorOnly, timeStarts, type Startup } from './lib/starts.js';
import { INSPECT_ON_SIGNAL, liveMemoryNow } from './lib/inspector.js';
import { report, type RunData, type SavedRun } from './lib/report.js';
import type { ArmResults } from './lib/targets.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Seconds of 100 KB requests each arm gets before the trials, by body text (see the warm-up in main). */
const LARGE_WARMUP: ReadonlyArray<[BodyText, number]> = [['ascii', 6], ['agent', 3], ['session', 3]];
const root = path.resolve(here, '..');
const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, trials: { type: 'string' }, arms: { type: 'string' }, report: { type: 'string' } } });
const QUICK = args.quick;
const TRIALS = Number(args.trials ?? (QUICK ? 1 : 3));
const SECONDS = QUICK ? 3 : 8;
/**
 * Bursts of 20 streams per arm and trial for the TTFB rows. A burst's streams share its
 * hiccups (a late timer, a descheduled core: the whole burst moves, in either arm), so a
 * p99 over 8 bursts (its second slowest stream) was whether one arm met a hiccup; over 24
 * (480 streams, the fifth slowest) both arms are likelier to, and one burst decides less.
 */
const BURSTS = QUICK ? 2 : 24;
/** BURST_LOG=1: a stderr line per burst with its wall-clock start and TTFB. */
const BURST_LOG = process.env.BURST_LOG === '1';
/** Those bursts' streams: 64 frames 5 ms apart, the first after 20 ms. */
const BURST_SHAPE: StreamShape = { frames: 64, intervalMs: 5, ttftMs: 20 };
const CORES = (await import('node:os')).cpus().length;
const PIN = CORES >= 2;

if (PIN && !args.report) pinSelf(1);

// `node --import tsx` keeps one process (the tsx CLI would fork a child we could not measure).
const tsx = '--import=tsx';
const WORKSPACE = 'ws-bench';

const body = messagesBody;

/** Gateway starts timed for the start-up row (`lib/starts.ts`); the last becomes the gateway arm. */
const STARTS = QUICK ? 3 : 7;

interface Arm {
  name: 'direct' | 'bare' | 'gateway';
  pid: number | undefined;
  target(bytes: number, stream?: boolean, text?: BodyText): Target;
  /** An OpenAI chat completion: the gateway translates it (unified endpoint → Anthropic), the others forward it to the mock's OpenAI API. */
  chat(bytes: number, stream: boolean, model?: string, text?: BodyText): Target;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-bench-'));
  const started: Started[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of started) await s.stop();
  };
  process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

  const mock = spawnPinned(PIN ? 1 : undefined, [tsx, path.join(here, 'lib/mock-upstream.ts'), '0']);
  started.push(mock);
  const mockUrl = `http://127.0.0.1:${await listeningPort(mock)}`;

  const bare = spawnPinned(PIN ? 0 : undefined, [...SERVER_NODE_FLAGS, INSPECT_ON_SIGNAL, tsx, path.join(here, 'lib/bare-proxy.ts'), mockUrl, '0']);
  started.push(bare);
  const bareUrl = `http://127.0.0.1:${await listeningPort(bare)}`;

  const wanted = (name: string): boolean => !args.arms || args.arms.split(',').includes(name);
  const configPath = path.join(dir, 'config.yaml');
  const config = readFileSync(path.join(here, 'gateway.yaml'), 'utf8');
  writeFileSync(configPath, config);
  const gwPort = 18000 + Math.floor(Math.random() * 2000);
  const gwUrl = `http://127.0.0.1:${gwPort}`;
  const gwHeaders = { 'x-workspace-id': WORKSPACE, 'anthropic-version': '2023-06-01' };
  let gateway: Started | undefined;
  const flags = [...SERVER_NODE_FLAGS, INSPECT_ON_SIGNAL, ...(process.env.GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
  // Each start but the last on a port of its own, so the arm's port is free for the last.
  const portOf = (last: boolean): number => (last ? gwPort : gwPort + 2);
  let startup: Startup;
  if (wanted('gateway')) {
    const timed = await timeStarts({
      count: STARTS,
      core: PIN ? 0 : undefined,
      floorPort: gwPort + 1,
      spawn: (last, i) =>
        spawnPinned(PIN ? 0 : undefined, [...flags, gatewayEntry(root), '--config', configPath], {
          AI_GATEWAY_PORT: String(portOf(last)),
          MOCK_UPSTREAM: mockUrl,
          AUDIT_FILE: path.join(dir, last ? 'audit.jsonl' : `audit-start-${i}.jsonl`),
          ANTHROPIC_API_KEY: 'sk-bench',
        }),
      firstAnswer: (last) => waitFor200(`http://127.0.0.1:${portOf(last)}/v1/claude/v1/messages`, { method: 'POST', body: body(1024), headers: { 'content-type': 'application/json', ...gwHeaders } }),
    });
    startup = timed.startup;
    gateway = timed.running;
    // The timed starts' audit files hold only their first answers: nothing to read after the run.
    for (let i = 0; i < STARTS - 1; i++) rmSync(path.join(dir, `audit-start-${i}.jsonl`), { force: true });
    started.push(gateway);
    // Its log (and whatever GATEWAY_NODE_FLAGS print, --trace-gc say) beside its audit file.
    gateway.child.stdout!.pipe(createWriteStream(path.join(dir, 'gateway.out')));
    process.stderr.write(`gateway output: ${path.join(dir, 'gateway.out')}\n`);
  } else {
    startup = await floorOnly(PIN ? 0 : undefined, gwPort + 1);
  }
  await waitFor200(`${bareUrl}/v1/messages`, { method: 'POST', body: body(1024) });

  const allArms: Arm[] = [
    { name: 'direct', pid: undefined, target: (b, s, x) => ({ url: `${mockUrl}/v1/messages`, headers: {}, body: body(b, s, undefined, x) }), chat: (b, s, m, x) => ({ url: `${mockUrl}/v1/chat/completions`, headers: {}, body: body(b, s, m, x) }) },
    { name: 'bare', pid: bare.pid, target: (b, s, x) => ({ url: `${bareUrl}/v1/messages`, headers: {}, body: body(b, s, undefined, x) }), chat: (b, s, m, x) => ({ url: `${bareUrl}/v1/chat/completions`, headers: {}, body: body(b, s, m, x) }) },
    { name: 'gateway', pid: gateway?.pid, target: (b, s, x) => ({ url: `${gwUrl}/v1/claude/v1/messages`, headers: gwHeaders, body: body(b, s, undefined, x) }), chat: (b, s, m, x) => ({ url: `${gwUrl}/v1/chat/completions`, headers: gwHeaders, body: body(b, s, m, x) }) },
  ];
  const arms = allArms.filter((a) => wanted(a.name));

  const results: ArmResults = {};
  const record = (arm: string, figure: string, value: number): void => {
    ((results[arm] ??= {})[figure] ??= []).push(value);
  };

  // Warm up JITs and pools, streams included: the bare proxy pipes every body the same way,
  // while the gateway's stream path and its translator are code of their own (see warmStreams).
  for (const arm of arms) {
    // ~60,000 requests: a gateway's CPU per 1 KB request falls that long (warmUp in lib/requests.ts).
    await maxThroughput(arm.target(1024), QUICK ? 1 : 6);
    // Large bodies run the gateway's own code (the long-string scanner, picks, literal copies)
    // that V8 compiles on the pinned core in their first seconds: after a 1 KB warm-up alone,
    // its first second of 100 KB requests cost ~800–1,100 µs each against ~190 once warm, and
    // run AW's first 100 KB trial read 0.25 × the bare proxy's (0.78, 0.72 after).
    for (const [text, seconds] of LARGE_WARMUP) await maxThroughput(arm.target(100 * 1024, false, text), QUICK ? 1 : seconds);
    await maxThroughput(arm.chat(100 * 1024, true, undefined, 'agent'), QUICK ? 1 : 3);
    // Tagged like the stream bursts below (the unified ones are not: their tag would be a body member).
    await warmStreams(arm.target(1024, true), QUICK ? 2 : 15, { tagged: true });
    // The unified endpoint forwards no x-mock-* header: the model's name shapes the stream.
    await warmStreams(arm.chat(1024, true, shapedModel(WARM_SHAPE)), QUICK ? 2 : 10);
  }
  await mockTimes(mockUrl); // the warm-up's stamps, dropped

  for (let trial = 0; trial < TRIALS; trial++) {
    const order = trial % 2 === 0 ? arms : [...arms].reverse();
    // Then 100 KB of agent-like text, not all ASCII, as real prompts are, in one string and
    // as a whole agent turn (tools, tool_use / tool_result messages; see messagesBody).
    for (const [size, text, key] of [[1024, 'ascii', '1k'], [100 * 1024, 'ascii', '100k'], [100 * 1024, 'agent', '100k_agent'], [100 * 1024, 'session', '100k_session']] as const) {
      for (const arm of order) {
        const cpu0 = arm.pid ? cpuSeconds(arm.pid) : 0;
        const r = await maxThroughput(arm.target(size, false, text), SECONDS);
        const cpu = arm.pid ? cpuSeconds(arm.pid) - cpu0 : NaN;
        record(arm.name, `rps_${key}`, r.rps);
        record(arm.name, `errors_${key}`, r.errors + r.non2xx);
        if (arm.pid) record(arm.name, `cpu_us_per_req_${key}`, (cpu / r.requests) * 1e6);
        process.stderr.write(`trial ${trial + 1} ${arm.name} ${key}: ${r.rps.toFixed(0)} req/s, ${r.errors + r.non2xx} errors\n`);
      }
    }
    for (const arm of order) {
      const l = await latencySerial(arm.target(1024), QUICK ? 500 : 2000);
      record(arm.name, 'lat_c1_p50', l.p50);
      record(arm.name, 'lat_c1_p99', l.p99);
    }
    const bareRps = median(results.bare?.rps_1k ?? [1000]);
    for (const arm of order) {
      // The server's CPU too: at one offered rate every arm does the same work per second,
      // while at max throughput the faster one is driven harder (see cpuAtRate).
      const cpu0 = arm.pid ? cpuSeconds(arm.pid) : 0;
      const l = await latencyAtRate(arm.target(1024), Math.max(50, Math.round(bareRps * 0.5)), QUICK ? 2 : 5);
      if (arm.pid) record(arm.name, 'cpu_us_per_req_1k_half', ((cpuSeconds(arm.pid) - cpu0) / l.samples) * 1e6);
      record(arm.name, 'lat_half_p50', l.p50);
      record(arm.name, 'lat_half_p99', l.p99);
      record(arm.name, 'lat_half_errors', l.errors);
    }
    // Streams started 20 at once, BURSTS times per trial with the arms taking turns: one
    // burst's p99 is only its slowest stream, so the trial's p99 is taken over all of them.
    // Each stream is tagged so the mock's own time (its TTFT timer, late whenever the
    // client on its core is busy) can be taken out: what is left is the path through the proxy.
    let burst = 0;
    const streamStats = await bursts(order, async (arm) => {
      const s: BurstStats = { ...(await streams(arm.target(1024, true), 20, shapeHeaders(BURST_SHAPE), `${arm.name}-${trial}-${burst++}`)), net: [], transit: [] };
      const mock = await mockTimes(mockUrl);
      for (const t of s.tagged) {
        const m = mock[t.tag];
        const written = m?.writes[0];
        if (m && written !== undefined) s.net.push(t.arrivals[0] - t.sent - (written - m.recv));
      }
      s.transit.push(...frameTransits(s.tagged, mock));
      return s;
    });
    for (const [name, s] of streamStats) {
      record(name, 'stream_ttfb_p50', percentile(s.ttfb, 50));
      record(name, 'stream_ttfb_p99', percentile(s.ttfb, 99));
      record(name, 'stream_net_p50', percentile(s.net, 50));
      record(name, 'stream_net_p99', percentile(s.net, 99));
      record(name, 'stream_gap_p99', percentile(s.gaps, 99));
      record(name, 'stream_transit_p50', percentile(s.transit, 50));
      record(name, 'stream_transit_p99', percentile(s.transit, 99));
      record(name, 'stream_frames_lost', s.frames.filter((f) => f !== BURST_SHAPE.frames).length + s.errors);
      record(name, 'stream_frames_merged', s.chunks.filter((c) => c < BURST_SHAPE.frames).length);
    }
    // The unified endpoint: OpenAI chat completions streamed (64 frames), which the gateway
    // translates to Anthropic Messages and back; the others pass the OpenAI stream through.
    // Then with 100 KB of agent text, which the translation carries without decoding it.
    for (const [size, text, suffix] of [[1024, 'ascii', ''], [100 * 1024, 'agent', '_100k_agent']] as const) {
      for (const arm of order) {
        const cpu0 = arm.pid ? cpuSeconds(arm.pid) : 0;
        const r = await maxThroughput(arm.chat(size, true, undefined, text), SECONDS);
        const cpu = arm.pid ? cpuSeconds(arm.pid) - cpu0 : NaN;
        record(arm.name, `uni${suffix}_rps`, r.rps);
        record(arm.name, `uni${suffix}_errors`, r.errors + r.non2xx);
        if (arm.pid) record(arm.name, `uni${suffix}_cpu_us_per_req`, (cpu / r.requests) * 1e6);
        process.stderr.write(`trial ${trial + 1} ${arm.name} unified stream${suffix}: ${r.rps.toFixed(0)} req/s, ${r.errors + r.non2xx} errors\n`);
      }
    }
    // Shaped by the model name: the unified endpoint does not forward the client's headers.
    const uniStats = await bursts(order, async (arm) => ({ ...(await streams(arm.chat(1024, true, shapedModel(BURST_SHAPE)), 20, {})), net: [], transit: [] }));
    for (const [name, s] of uniStats) {
      record(name, 'uni_ttfb_p50', percentile(s.ttfb, 50));
      record(name, 'uni_ttfb_p99', percentile(s.ttfb, 99));
      record(name, 'uni_stream_errors', s.errors);
    }
    // A client that keeps no connection alive: each request also pays accept, parser and close.
    // Last in the trial: run just before the bursts, its header set (connection: close), new
    // to the gateway's request path, set off recompiles of it, and the bursts' p99 came out
    // worse in a short check (+1.55, +2.94 ms over bare in two trials, +0.86, +0.40 without).
    for (const arm of order) {
      const cpu0 = arm.pid ? cpuSeconds(arm.pid) : 0;
      const r = await newConnections(arm.target(1024), QUICK ? 1000 : 4000);
      if (arm.pid) record(arm.name, 'cpu_us_per_req_1k_newconn', ((cpuSeconds(arm.pid) - cpu0) / r.requests) * 1e6);
      record(arm.name, 'rps_1k_newconn', r.rps);
      record(arm.name, 'errors_1k_newconn', r.errors + r.non2xx);
      process.stderr.write(`trial ${trial + 1} ${arm.name} 1k, new connection each: ${r.rps.toFixed(0)} req/s, ${r.errors + r.non2xx} errors\n`);
    }
  }

  // Concurrent streams held, and memory per stream: peak RSS over idle. The first round of
  // a size also pays each process's one-time heap growth (young generation, pools), the
  // same for every arm and not a cost per stream, so rounds alternate and the median is
  // reported; the first round's figure is kept as `rss_first_round_kb_<count>`.
  for (const count of QUICK ? [100] : [100, 1000]) {
    // Streams held: the worst round counts.
    const fewestHeld = new Map<string, number>();
    for (let round = 0; round < (QUICK ? 1 : 3); round++) {
      for (const arm of round % 2 === 0 ? arms.filter((a) => a.pid) : arms.filter((a) => a.pid).reverse()) {
        const idle = rssBytes(arm.pid!);
        let peak = idle;
        const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(arm.pid!))), 20);
        const s = await streams(arm.target(1024, true), count, { 'x-mock-frames': '64', 'x-mock-interval-ms': '20' });
        clearInterval(sampler);
        const held = s.frames.filter((f) => f === 64).length;
        fewestHeld.set(arm.name, Math.min(held, fewestHeld.get(arm.name) ?? held));
        record(arm.name, `rss_per_stream_kb_${count}`, (peak - idle) / count / 1024);
        if (round === 0) record(arm.name, `rss_first_round_kb_${count}`, (peak - idle) / count / 1024);
        record(arm.name, 'rss_idle_mb', idle / 1048576);
        await sleep(200);
      }
    }
    for (const [name, held] of fewestHeld) record(name, `streams_held_${count}`, held);
  }

  // Reload under traffic: write a changed config, time until /health shows its hash.
  const gwArm = arms.find((a) => a.name === 'gateway');
  const reload = gwArm ? await measureReload(gwUrl, configPath, config, gwArm.target(1024)) : { ms: NaN, failed: 0, sent: 0 };
  const heapAfter = gwArm ? await gatewayHeap(gwUrl) : NaN;
  // Opened only now (SIGUSR1, on the port `--inspect-port` left free), so no trial ran with an inspector attached.
  const liveHeapAfter = { bare: await liveHeapMiB(bare), gateway: gateway ? await liveHeapMiB(gateway) : NaN };

  await stopAll();
  // The run's audit file is ~700 MB of the bench's own lines; the gateway's output and the
  // config stay for reading after the run.
  rmSync(path.join(dir, 'audit.jsonl'), { force: true });
  if (process.env.LIVE_MEMORY !== '0') liveMemory(dir, results);
  const data: RunData = { results, startup, reload, heapAfter, liveHeapAfter };
  report(data, { pinned: PIN, trials: TRIALS, bursts: BURSTS, how: `${SECONDS} s per throughput run; node ${process.version}` });
  mkdirSync(path.join(here, 'results'), { recursive: true });
  const saved: SavedRun = { date: new Date().toISOString(), trials: TRIALS, pinned: PIN, ...data };
  writeFileSync(path.join(here, QUICK ? 'results/quick.json' : 'results/latest.json'), JSON.stringify(saved, null, 2));
}

/** One burst's stats, with each stream's time to first byte less the mock's own time and its frames' transit (when tagged). */
type BurstStats = StreamStats & { net: number[]; transit: number[] };

/** `run` BURSTS times for each arm, the arms taking turns; each arm's stats merged. */
async function bursts(order: Arm[], run: (arm: Arm) => Promise<BurstStats>): Promise<Map<string, BurstStats>> {
  const merged = new Map<string, BurstStats>(order.map((a) => [a.name, { ttfb: [], gaps: [], frames: [], chunks: [], errors: 0, tagged: [], net: [], transit: [] }]));
  for (let b = 0; b < BURSTS; b++) {
    for (const arm of b % 2 === 0 ? order : [...order].reverse()) {
      const startedAt = Date.now();
      const s = await run(arm);
      // Wall-clock time: to line a slow burst up with a traced gateway's output.
      if (BURST_LOG) process.stderr.write(`burst ${arm.name} ${b} at ${startedAt}: TTFB p50 ${percentile(s.ttfb, 50).toFixed(2)} max ${Math.max(...s.ttfb).toFixed(2)} ms\n`);
      const m = merged.get(arm.name)!;
      m.ttfb.push(...s.ttfb);
      m.gaps.push(...s.gaps);
      m.frames.push(...s.frames);
      m.chunks.push(...s.chunks);
      m.errors += s.errors;
      m.net.push(...s.net);
      m.transit.push(...s.transit);
    }
  }
  return merged;
}

/**
 * Live memory per held stream after a full GC (`bench/stream-memory.ts`, its own servers,
 * started once this run's have stopped): one figure per round into `results`, as
 * `live_kib_<mode>` (fresh: each stream with its connection; warm: on keep-alive ones).
 */
function liveMemory(dir: string, results: ArmResults): void {
  const out = path.join(dir, 'stream-memory.json');
  const env = { ...process.env, N: QUICK ? '200' : '1000', R: QUICK ? '1' : '3', JSON_OUT: out };
  const run = spawnSync(process.execPath, [tsx, path.join(here, 'stream-memory.ts')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (run.status !== 0) {
    process.stderr.write(`stream-memory.ts failed (exit ${run.status}); no live-memory rows\n`);
    return;
  }
  const { kibPerStream } = JSON.parse(readFileSync(out, 'utf8')) as { kibPerStream: Record<string, number[]> };
  for (const [key, rounds] of Object.entries(kibPerStream)) {
    const [mode, arm] = key.split(' ');
    (results[arm] ??= {})[`live_kib_${mode}`] = rounds;
  }
}

/** A proxy's heap after a full GC, MiB; NaN (and a line on stderr) when it cannot be read, so the run still reports. */
async function liveHeapMiB(s: Started): Promise<number> {
  try {
    return (await liveMemoryNow(s)).heap / 1048576;
  } catch (err) {
    process.stderr.write(`heap after the run not read: ${(err as Error).message}\n`);
    return NaN;
  }
}

async function gatewayHeap(url: string): Promise<number> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const m = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  return m ? Number(m[1]) / 1048576 : NaN;
}

/** `--report FILE`: a saved run's report printed again, the targets' and host's tables included. */
async function reportSaved(file: string): Promise<void> {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedRun;
  report(saved, { pinned: saved.pinned, trials: saved.trials, bursts: BURSTS, how: `the run of ${saved.date}` });
}

(args.report ? reportSaved(args.report) : main()).catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
