/**
 * CPU per request of gateway builds or configs side by side, against the bare proxy, in
 * one run (alternating order, medians): the before/after measure for a hot-path change.
 * Each argument is `CONFIG.yaml[::path/to/ai-gateway.js[::node flags[::NAME=value …]]]`
 * (the last: the gateway process's environment; BARE_ENV sets the bare proxy's); the default
 * gateway is this checkout's dist/. The config gets ${AI_GATEWAY_PORT}, ${MOCK_UPSTREAM},
 * ${AUDIT_FILE} and ANTHROPIC_API_KEY from here.
 *
 *   git worktree add /tmp/base HEAD~3 && (cd /tmp/base && npm ci && npm run build)
 *   npx tsx bench/compare.ts bench/gateway.yaml::/tmp/base/dist/bin/ai-gateway.cjs bench/gateway.yaml
 *   N=30000 T=5 npx tsx bench/compare.ts …   # requests per trial, trials
 *   UNIFIED=1 npx tsx bench/compare.ts …      # 64-frame OpenAI streams through the unified endpoint
 *   STREAM=1 npx tsx bench/compare.ts …       # 64-frame Anthropic streams, passed through
 *   SIZE=102400 npx tsx bench/compare.ts …    # request body size in bytes (default 1024)
 *   TEXT=agent npx tsx bench/compare.ts …     # agent-like prompt text, not all ASCII (default: x…)
 *   TEXT=session npx tsx bench/compare.ts …   # a coding agent's whole turn: tools, tool_use / tool_result, that text
 *   D=8 npx tsx bench/compare.ts …            # timed runs (seconds) instead of N requests
 *   P=3 npx tsx bench/compare.ts …            # processes per argument (their trials pooled)
 *   INTERVAL=1 D=8 UNIFIED=1 npx tsx bench/compare.ts …  # stream frames this many ms apart, as a
 *                                             # real answer's come (one event per read), not back to back
 *   RATE=5000 npx tsx bench/compare.ts …      # CPU per request and latency p50 / p99 at this offered rate (open loop, D or
 *                                             # 6 s), the same for every arm, not at each one's max
 *   CALIBRATE=10,25 npx tsx bench/compare.ts …  # add the bare proxy doing 10 and 25 µs of work of its
 *                                             # own per request: what a ratio means in µs here
 *   KEYS=1 npx tsx bench/compare.ts …         # clients prove their workspace with a workspace key
 *                                             # (x-api-key), as Claude Code does, not the header alone
 *   KEYS=sigv4 npx tsx bench/compare.ts …     # … or sign with it (SigV4, as the AWS SDKs do): one
 *                                             # signature per process, good for the 15 minutes the
 *                                             # gateway accepts it, so keep such runs shorter
 *   NEWCONN=1 N=4000 npx tsx bench/compare.ts …  # a new connection per request (`Connection: close`,
 *                                             # 8 at a time), as bench/run.ts's new-connection rows
 *   BARE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/bare' npx tsx bench/compare.ts …  # Node flags for the bare
 *                                             # proxy (the gateway's go in its argument): profile both sides
 *   WARMUP=0 npx tsx bench/compare.ts …       # requests each process gets before the trials
 *                                             # (default 60,000: JIT tier-up, see warmUp)
 *
 * The servers run on core 0; this process (autocannon) and the mock on core 1.
 *
 * Two processes of one build differ by up to ~10 % in CPU per request (JIT and heap
 * layout settle differently), and trials of one process do not average that away: for a
 * change of a few percent, run P ≥ 3 processes per build.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { freePort } from '../test/helpers/ports.js';
import { makeWorkspaceKey } from '../filters/auth/keys.js';
import { cpuSeconds, gatewayEntry, listeningPort, median, pinSelf, SERVER_NODE_FLAGS, spawnPinned, waitFor200 } from './lib/proc.js';
import { openRunScope } from './lib/run-scope.js';
import { cpuAtRate, newConnections } from './lib/load.js';
import { BODY_TEXT, loadCost, messagesBody, shapedModel, warmUp, type LoadCost } from './lib/requests.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const REQUESTS = Number(process.env.N ?? 20000);
/** Timed runs of this many seconds instead of N requests (as bench/run.ts measures). */
const SECONDS = process.env.D ? Number(process.env.D) : undefined;
const TRIALS = Number(process.env.T ?? 3);
/** Gateway processes per argument, started side by side; a row pools their trials. */
const PROCESSES = Number(process.env.P ?? 1);
/** OpenAI chat-completion streams: translated by the gateway, passed through by the bare proxy. */
const UNIFIED = process.env.UNIFIED === '1';
/** Anthropic streams (64 frames, no pauses): the pass-through's stream path. */
const STREAM = UNIFIED || process.env.STREAM === '1';
const GATEWAY_PATH = UNIFIED ? '/v1/chat/completions' : '/v1/claude/v1/messages';
const BARE_PATH = UNIFIED ? '/v1/chat/completions' : '/v1/messages';
pinSelf(1);

const SIZE = Number(process.env.SIZE ?? 1024);
/** How the gateway arms' clients identify: the workspace header, a workspace key, or SigV4 with it. */
const KEYS = process.env.KEYS === '1' ? 'key' : process.env.KEYS === 'sigv4' ? 'sigv4' : 'header';
/** The secret bench/gateway.yaml reads as ${AI_GATEWAY_KEY_SECRET} when keys are on. */
const KEY_SECRET = KEYS === 'header' ? '' : 'bench-key-secret-0123456789';
/**
 * Frames back to back arrive several to a read; spaced, each comes alone, as a real answer's
 * tokens do. The model name carries the shape, so it reaches the mock through the unified
 * endpoint too.
 */
const INTERVAL = process.env.INTERVAL ? Number(process.env.INTERVAL) : undefined;
const MODEL = STREAM && INTERVAL !== undefined ? shapedModel({ frames: 64, intervalMs: INTERVAL, ttftMs: 0 }) : 'claude-bench';
const BODY = messagesBody(SIZE, STREAM, MODEL, BODY_TEXT);
/** Offered req/s for every arm alike, instead of each arm's max throughput. */
const RATE = process.env.RATE ? Number(process.env.RATE) : undefined;
/** Each request on a connection of its own, as a client that keeps none alive sends it. */
const NEWCONN = process.env.NEWCONN === '1';
/** Requests each process serves before the trials. */
const WARMUP = Number(process.env.WARMUP ?? 60000);
/** Microseconds of work per request for extra bare-proxy arms (calibration). */
const CALIBRATE = (process.env.CALIBRATE ?? '').split(',').filter(Boolean).map(Number);
/** Node flags for the bare proxies, e.g. `--cpu-prof` to profile the floor beside the gateway. */
const BARE_FLAGS = (process.env.BARE_FLAGS ?? '').split(' ').filter(Boolean);

/** The headers that identify the bench workspace to a gateway listening on `port`. */
async function identityHeaders(port: number): Promise<Record<string, string>> {
  if (KEYS === 'header') return { 'x-workspace-id': 'ws-bench' };
  const key = makeWorkspaceKey(KEY_SECRET, 'ws-bench');
  if (KEYS === 'key') return { 'x-api-key': key };
  // Signed once: the gateway checks that a signature is fresh, not that it is new.
  const signer = new SignatureV4({ credentials: { accessKeyId: 'ws-bench', secretAccessKey: key }, region: 'us-east-1', service: 'bedrock', sha256: Hash.bind(null, 'sha256') });
  const host = `127.0.0.1:${port}`;
  const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port, path: GATEWAY_PATH, headers: { host, 'content-type': 'application/json' }, body: BODY });
  const headers: Record<string, string> = {};
  // The load generator sends its own host and content-type, the same as signed.
  for (const [name, value] of Object.entries(signed.headers)) if (name !== 'host' && name !== 'content-type') headers[name] = String(value);
  return headers;
}

interface Arm {
  /** The row it belongs to: the argument it was started from, or the bare proxy. */
  name: string;
  pid: number;
  url: string;
  headers: Record<string, string>;
}

/** At {@link RATE}: latency from each request's due time (ms), beside CPU and req/s. */
type Measured = LoadCost & { p50?: number; p99?: number };

/** CPU per request and req/s: at the arm's max throughput, or at {@link RATE}. */
async function measure(arm: Arm): Promise<Measured> {
  if (NEWCONN) {
    const before = cpuSeconds(arm.pid);
    const r = await newConnections({ url: arm.url, headers: arm.headers, body: BODY }, REQUESTS);
    if (r.errors + r.non2xx > 0) throw new Error(`${r.errors + r.non2xx} failed requests at ${arm.url}`);
    return { cpuUs: ((cpuSeconds(arm.pid) - before) / r.requests) * 1e6, rps: r.rps };
  }
  if (RATE === undefined) return loadCost(arm.pid, arm.url, arm.headers, BODY, SECONDS ? { seconds: SECONDS } : REQUESTS);
  const seconds = SECONDS ?? 6;
  const r = await cpuAtRate(arm.pid, { url: arm.url, headers: arm.headers, body: BODY }, RATE, seconds);
  if (r.errors > 0) throw new Error(`${r.errors} errors at ${arm.url}`);
  return { cpuUs: r.cpuUs, rps: r.samples / seconds, p50: r.p50, p99: r.p99 };
}

/** `NAME=value NAME2=value` (an arm's fourth field, or BARE_ENV) as an environment. */
function envAssignments(text: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of text?.split(' ').filter(Boolean) ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`not NAME=value: ${pair}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

async function main(): Promise<void> {
  const specs = process.argv.slice(2);
  if (specs.length === 0) throw new Error('usage: compare.ts CONFIG.yaml[::ai-gateway.js[::node flags[::NAME=value …]]] …');
  const { dir, started: procs, cleanUp } = openRunScope('gw-compare-');
  try {
    const mock = spawnPinned(1, ['--import=tsx', path.join(here, 'lib/mock-upstream.ts'), '0']);
    procs.push(mock);
    const mockUrl = `http://127.0.0.1:${await listeningPort(mock)}`;
    const arms: Arm[] = [];
    const bareRows = [0, ...CALIBRATE].map((us) => ({ us, name: us === 0 ? 'bare proxy' : `bare proxy + ${us} µs of work` }));
    const rows = [...bareRows.map((b) => b.name), ...specs.map((spec, i) => `${i + 1}. ${spec}`)];
    for (let copy = 0; copy < PROCESSES; copy++) for (const { us, name } of bareRows) {
      const bare = spawnPinned(0, [...SERVER_NODE_FLAGS, ...BARE_FLAGS, '--import=tsx', path.join(here, 'lib/bare-proxy.ts'), mockUrl, '0', String(us)], envAssignments(process.env.BARE_ENV));
      procs.push(bare);
      arms.push({ name, pid: bare.pid, url: `http://127.0.0.1:${await listeningPort(bare)}${BARE_PATH}`, headers: {} });
    }
    for (let copy = 0; copy < PROCESSES; copy++) for (const [i, spec] of specs.entries()) {
      const [config, gateway, flags, env] = spec.split('::');
      const port = await freePort();
      const gw = spawnPinned(0, [...SERVER_NODE_FLAGS, ...(flags ? flags.split(' ') : []), gateway || gatewayEntry(root), '--config', path.resolve(config)], {
        ...envAssignments(env),
        AI_GATEWAY_PORT: String(port),
        MOCK_UPSTREAM: mockUrl,
        ANTHROPIC_API_KEY: 'sk-bench',
        AUDIT_FILE: path.join(dir, `audit-${i}-${copy}.jsonl`),
        AI_GATEWAY_KEY_SECRET: KEY_SECRET,
      });
      procs.push(gw);
      const url = `http://127.0.0.1:${port}${GATEWAY_PATH}`;
      // As bench/run.ts sends them (an Anthropic client sends its API version).
      const headers: Record<string, string> = { ...(await identityHeaders(port)), 'anthropic-version': '2023-06-01' };
      await waitFor200(url, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json', ...headers } });
      arms.push({ name: rows[bareRows.length + i], pid: gw.pid, url, headers });
    }
    for (const arm of arms) await warmUp(arm.url, arm.headers, BODY, WARMUP);
    const samples = new Map<string, Measured[]>(rows.map((name) => [name, []]));
    const byProcess = new Map<number, number[]>(arms.map((arm) => [arm.pid, []]));
    for (let t = 0; t < TRIALS; t++) {
      for (const arm of t % 2 === 0 ? arms : [...arms].reverse()) {
        const cost = await measure(arm);
        samples.get(arm.name)!.push(cost);
        byProcess.get(arm.pid)!.push(cost.cpuUs);
      }
    }
    // How far a row's processes are apart: a difference between rows under this is noise.
    const spread = (name: string): string => arms.filter((a) => a.name === name).map((a) => median(byProcess.get(a.pid)!)).sort((x, y) => x - y).map((us) => us.toFixed(1)).join(', ');
    const cpu = (name: string) => median(samples.get(name)!.map((s) => s.cpuUs));
    const rps = (name: string) => median(samples.get(name)!.map((s) => s.rps));
    // Busy: the share of its core a server used while loaded. Well under 100 %, req/s was
    // bound by latency (the load generator's and the mock's core, the sockets), not by
    // its CPU: then req/s says little about a change, CPU per request still does.
    const busy = (name: string) => median(samples.get(name)!.map((s) => (s.cpuUs * s.rps) / 1e4));
    const perProcess = PROCESSES > 1;
    // At one offered rate the arms' latencies compare too (medians of the trials' p50 and p99).
    const latency = (name: string): string => (['p50', 'p99'] as const).map((p) => median(samples.get(name)!.map((s) => s[p] ?? NaN)).toFixed(3)).join(' / ');
    const withLatency = RATE !== undefined;
    process.stdout.write(`| arm | CPU µs/request | × bare | req/s | × bare | core busy |${withLatency ? ' latency p50 / p99 ms |' : ''}${perProcess ? ' CPU by process |' : ''}\n|---|---|---|---|---|---|${withLatency ? '---|' : ''}${perProcess ? '---|' : ''}\n`);
    for (const name of rows) {
      const us = cpu(name);
      const r = rps(name);
      process.stdout.write(`| ${name} | ${us.toFixed(1)} | ${(us / cpu('bare proxy')).toFixed(2)} | ${r.toFixed(0)} | ${(r / rps('bare proxy')).toFixed(2)} | ${busy(name).toFixed(0)} % |${withLatency ? ` ${latency(name)} |` : ''}${perProcess ? ` ${spread(name)} |` : ''}\n`);
    }
    const load = NEWCONN ? `${REQUESTS} requests, a new connection each (8 at a time),` : RATE !== undefined ? `${RATE} req/s offered to every arm (open loop) for ${SECONDS ?? 6} s` : SECONDS ? `${SECONDS} s` : `${REQUESTS} requests`;
    process.stdout.write(`\n${WARMUP} requests of warm-up, then ${load} × ${TRIALS} trials per process, ${PROCESSES} process(es) per row (medians), ${SIZE >= 1024 ? `${Math.round(SIZE / 1024)} KB` : `${SIZE} B`} ${BODY_TEXT === 'ascii' ? '' : `${BODY_TEXT}-text `}${UNIFIED ? 'OpenAI streams (64 frames' : STREAM ? 'Anthropic streams (64 frames' : 'bodies'}${STREAM ? (INTERVAL !== undefined ? `, ${INTERVAL} ms apart)` : ')') : ''}${NEWCONN ? '' : ', 16 connections'}; servers on core 0, load and mock on core 1.\n`);
  } finally {
    await cleanUp();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
