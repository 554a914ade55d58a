/**
 * Instructions per request, bare proxy against gateway, counted by valgrind's callgrind:
 * a CPU figure this shared host's noise cannot move (the CPU-seconds ratio of bench/run.ts
 * swung 1.09–1.30 between runs of the same build). Both proxies run under callgrind; after an
 * uncounted warm-up (JIT tier-up), counting is switched on for windows of N requests, the
 * arms alternating, and each window's count divided by its requests. Also prints where the
 * gateway's extra instructions go: by share (JIT code, builtins, collector, …) and by function.
 * A second pair of columns leaves out the V8 compiler's share: tier-up still going on in a
 * window (it fades over minutes under callgrind) is warm-up, not the cost of a request.
 *
 *   npx tsx bench/instructions.ts                      # rows 1k, stream, 100k; ~7 min
 *   ROWS=1k WINDOWS=5 npx tsx bench/instructions.ts    # one row, more windows
 *   ROWS=stream STREAM_FRAMES=1 npx tsx bench/instructions.ts   # a stream's fixed cost
 *   ROWS=agent npx tsx bench/instructions.ts           # a 100 KB agent turn (tools, tool results)
 *   ROWS=unified npx tsx bench/instructions.ts         # an OpenAI stream: passed through by the bare proxy,
 *                                                      # translated to Anthropic and back by the gateway
 *   GATEWAY=/tmp/base/dist/bin/ai-gateway.cjs npx tsx bench/instructions.ts   # another build
 *   CONFIG=my.yaml TOP=25 npx tsx bench/instructions.ts
 *   BENCH_STORE=redis BENCH_REDIS_URL=redis://127.0.0.1:6391 ROWS=1k npx tsx bench/instructions.ts
 *                                                      # rate limits on a redis-server you started (pin it to core 1)
 *   KEEP=/tmp/dumps npx tsx bench/instructions.ts      # keep the dumps, for callgrind_annotate or kcachegrind
 *
 * Counts are of user space only: the kernel's share (syscalls, loopback TCP) is left out,
 * which is about the same per request for both proxies, so this ratio reads higher than the
 * CPU-seconds one. Under callgrind a server runs ~50× slower, so a window's requests queue
 * deeper than natively; both arms see the same load. Results: stdout and
 * bench/results/instructions.json.
 */
import autocannon from 'autocannon';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/ports.js';
import { countPerRequest, functionLine, kilo, medianWindow, shareOf, spawnCounted, startMockAndCountedBare, withoutCompiler, type Counted, type Profile, type Share } from './lib/callgrind.js';
import { gatewayEntry, median, pinSelf, SERVER_NODE_FLAGS, waitFor200, type Started } from './lib/proc.js';
import { messagesBody, shapedModel, shapeHeaders, type StreamShape } from './lib/requests.js';
import { bareChatUrl, benchGatewayEnv, GATEWAY_HEADERS, gatewayChatUrl } from './lib/servers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const ROWS = (process.env.ROWS ?? '1k,stream,100k').split(',');
const WINDOWS = Number(process.env.WINDOWS ?? 3);
/** Requests per counted window of the 1 KB row (the others scale it down: their requests cost more). */
const N = Number(process.env.N ?? 2000);
/** Uncounted requests per arm before the first 1 KB window; the others scale it down likewise. */
const WARMUP = Number(process.env.WARMUP ?? 20_000);
const TOP = Number(process.env.TOP ?? 15);
const CONFIG = path.resolve(process.env.CONFIG ?? path.join(here, 'gateway.yaml'));
pinSelf(1);

interface Row {
  name: string;
  label: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  /** Of N and WARMUP. */
  scale: number;
  /** An OpenAI chat request: to the bare proxy's `/v1/chat/completions`, the gateway's unified endpoint. */
  unified?: boolean;
}

/**
 * 64-frame streams, 2 ms apart: far enough that a server slowed by callgrind still reads them
 * one by one. STREAM_FRAMES=1 leaves a stream's fixed cost (its request, head and end).
 */
const STREAM_FRAMES = Number(process.env.STREAM_FRAMES ?? 64);
const STREAM_SHAPE: StreamShape = { frames: STREAM_FRAMES, intervalMs: 2, ttftMs: 0 };
const STREAM_HEADERS = shapeHeaders(STREAM_SHAPE);

const ROW_SPECS: Record<string, Row> = {
  '1k': { name: '1k', label: '1 KB request', body: messagesBody(1024), headers: {}, connections: 16, scale: 1 },
  stream: { name: 'stream', label: `SSE stream, ${STREAM_FRAMES} frame${STREAM_FRAMES === 1 ? '' : 's'}`, body: messagesBody(1024, true), headers: STREAM_HEADERS, connections: 8, scale: 0.05 },
  '100k': { name: '100k', label: '100 KB request', body: messagesBody(100 * 1024), headers: {}, connections: 16, scale: 0.1 },
  // The unified endpoint's headers do not reach the mock: the stream's shape goes in the model's name.
  unified: { name: 'unified', label: `unified stream, ${STREAM_FRAMES} fr.`, body: messagesBody(1024, true, shapedModel(STREAM_SHAPE)), headers: STREAM_HEADERS, connections: 8, scale: 0.05, unified: true },
  // Claude Code's request: tools, a long run of tool_use / tool_result turns (not in the default rows).
  agent: { name: 'agent', label: '100 KB agent turn', body: messagesBody(100 * 1024, false, 'claude-bench', 'session'), headers: {}, connections: 16, scale: 0.1 },
};

interface Arm {
  name: 'bare' | 'gateway';
  url: string;
  /** Where the arm takes an OpenAI chat request. */
  unifiedUrl: string;
  headers: Record<string, string>;
  server: Counted;
}

async function fire(arm: Arm, row: Row, amount: number): Promise<void> {
  const r = await autocannon({
    url: row.unified ? arm.unifiedUrl : arm.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...arm.headers, ...row.headers },
    body: row.body,
    connections: row.connections,
    amount,
    timeout: 120,
  });
  if (r.non2xx || r.errors || r.timeouts) throw new Error(`${arm.name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
}

function window(arm: Arm, row: Row, requests: number): Promise<Profile> {
  return countPerRequest(arm.server, (n) => fire(arm, row, n), requests);
}

interface RowResult {
  row: Row;
  /** Per arm, each window's profile (per request). */
  windows: Record<Arm['name'], Profile[]>;
}

async function measure(arms: Arm[], row: Row): Promise<RowResult> {
  const warm = Math.round(WARMUP * row.scale);
  const n = Math.max(20, Math.round(N * row.scale));
  for (const arm of arms) await fire(arm, row, warm);
  const windows: RowResult['windows'] = { bare: [], gateway: [] };
  for (let w = 0; w < WINDOWS; w++) {
    for (const arm of w % 2 === 0 ? arms : [...arms].reverse()) {
      const p = await window(arm, row, n);
      windows[arm.name].push(p);
      process.stderr.write(`${row.name} ${arm.name} window ${w + 1}: ${kilo(p.total)} instructions/request\n`);
    }
  }
  return { row, windows };
}

/** Sum per key over profiles' `self`, grouped by `key`. */
function grouped(p: Profile, key: (fn: string) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [fn, n] of p.self) out.set(key(fn), (out.get(key(fn)) ?? 0) + n);
  return out;
}

function report(results: RowResult[]): void {
  const out: string[] = [];
  out.push('Instructions per request in user space (valgrind callgrind), median of windows [min–max]; servers on core 0, load and mock on core 1');
  out.push(`${'row'.padEnd(24)}${'bare'.padStart(24)}${'gateway'.padStart(24)}${'ratio'.padStart(8)}${'added'.padStart(11)}${'ratio*'.padStart(9)}${'added*'.padStart(11)}`);
  for (const { row, windows } of results) {
    const cell = (ps: Profile[]): string => {
      const t = ps.map((p) => p.total);
      return `${kilo(median(t))} [${(Math.min(...t) / 1000).toFixed(0)}–${(Math.max(...t) / 1000).toFixed(0)}]`;
    };
    const b = median(windows.bare.map((p) => p.total));
    const g = median(windows.gateway.map((p) => p.total));
    const bs = median(windows.bare.map(withoutCompiler));
    const gs = median(windows.gateway.map(withoutCompiler));
    out.push(
      `${row.label.padEnd(24)}${cell(windows.bare).padStart(24)}${cell(windows.gateway).padStart(24)}${(g / b).toFixed(2).padStart(8)}${`+${kilo(g - b)}`.padStart(11)}` +
        `${(gs / bs).toFixed(2).padStart(9)}${`+${kilo(gs - bs)}`.padStart(11)}`,
    );
  }
  out.push('* without the V8 compiler\'s share (tier-up not yet finished in the window)');
  for (const { row, windows } of results) {
    const b = medianWindow(windows.bare);
    const g = medianWindow(windows.gateway);
    out.push('', `${row.label}: where the instructions go (median window of each arm, per request)`);
    const bs = grouped(b, shareOf);
    const gs = grouped(g, shareOf);
    const names = [...new Set<string>([...bs.keys(), ...gs.keys()])] as Share[];
    names.sort((x, y) => (gs.get(y) ?? 0) - (bs.get(y) ?? 0) - ((gs.get(x) ?? 0) - (bs.get(x) ?? 0)));
    for (const s of names) out.push(`  ${s.padEnd(24)}${kilo(bs.get(s) ?? 0).padStart(10)}${kilo(gs.get(s) ?? 0).padStart(10)}${kilo((gs.get(s) ?? 0) - (bs.get(s) ?? 0), true).padStart(11)}`);
    // Named functions only: JIT code the perf map did not name has addresses that differ between processes.
    const named = (fn: string): string => (fn.startsWith('0x') ? 'JIT code' : fn);
    const bf = grouped(b, named);
    const gf = grouped(g, named);
    const added = [...new Set<string>([...bf.keys(), ...gf.keys()])].filter((fn) => fn !== 'JIT code').map((fn) => [fn, (gf.get(fn) ?? 0) - (bf.get(fn) ?? 0)] as const);
    added.sort((x, y) => y[1] - x[1]);
    out.push(`  functions the gateway runs most more of (of ${added.length} named):`);
    for (const [fn, n] of added.slice(0, TOP)) out.push(functionLine(n, fn));
  }
  console.log(out.join('\n'));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-bench-'));
  const started: Started[] = [];
  try {
    const { mockUrl, bare, bareUrl } = await startMockAndCountedBare(dir, started);
    const port = await freePort();
    const gateway = spawnCounted('gateway', 0, dir, [...SERVER_NODE_FLAGS, path.resolve(process.env.GATEWAY ?? gatewayEntry(root)), '--config', CONFIG], benchGatewayEnv(port, mockUrl, path.join(dir, 'audit.jsonl')));
    started.push(gateway);
    const gatewayUrl = `http://127.0.0.1:${port}/v1/claude/v1/messages`;
    await waitFor200(gatewayUrl, { method: 'POST', body: messagesBody(1024), headers: { 'content-type': 'application/json', ...GATEWAY_HEADERS } }, 120_000);
    const arms: Arm[] = [
      { name: 'bare', url: bareUrl, unifiedUrl: bareChatUrl(bareUrl), headers: {}, server: bare },
      { name: 'gateway', url: gatewayUrl, unifiedUrl: gatewayChatUrl(gatewayUrl), headers: { ...GATEWAY_HEADERS }, server: gateway },
    ];
    const results: RowResult[] = [];
    for (const name of ROWS) {
      const row = ROW_SPECS[name];
      if (!row) throw new Error(`unknown row ${name}: one of ${Object.keys(ROW_SPECS).join(', ')}`);
      results.push(await measure(arms, row));
    }
    report(results);
    const json = results.map(({ row, windows }) => ({
      row: row.name,
      bare: windows.bare.map((p) => Math.round(p.total)),
      gateway: windows.gateway.map((p) => Math.round(p.total)),
      bareWithoutCompiler: windows.bare.map((p) => Math.round(withoutCompiler(p))),
      gatewayWithoutCompiler: windows.gateway.map((p) => Math.round(withoutCompiler(p))),
    }));
    mkdirSync(path.join(here, 'results'), { recursive: true });
    writeFileSync(path.join(here, 'results/instructions.json'), JSON.stringify({ when: new Date().toISOString(), windows: WINDOWS, n: N, warmup: WARMUP, rows: json }, null, 2));
  } finally {
    for (const s of started) await s.stop();
    if (process.env.KEEP) cpSync(dir, process.env.KEEP, { recursive: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
