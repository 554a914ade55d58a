/** What the benchmarks send, and the CPU-per-request measure they share. */
import autocannon from 'autocannon';
import { cpuSeconds } from './proc.js';
import { sessionBody } from './session-body.js';

/**
 * What a coding agent's prompt reads like: code, tool output and prose, with the few
 * characters outside ASCII such text carries (quotes, arrows, box drawing, an accent, an
 * emoji) — about one byte in 60. One such character makes the whole body non-ASCII, which
 * is what a gateway that reads the body pays for: a strict UTF-8 decode instead of a copy.
 */
const AGENT_TEXT = [
  'function total(items: Item[]): number {\n  // “sum” of the prices → cents\n  return items.reduce((n, i) => n + i.price, 0);\n}\n',
  '$ tree src\nsrc\n├── index.ts\n└── lib\n    └── util.ts\n✓ 12 tests passed (0.8 s)\n',
  'The café’s order service retries twice — see docs/retries.md 🙂 before changing it.\n',
  'const config = { retries: 2, timeoutMs: 1500, endpoint: "https://example.internal/api" };\n',
].join('');

/**
 * Request text: `x` repeated, {@link AGENT_TEXT} (not all ASCII) repeated, or a whole
 * agent session's turn in that text (Anthropic Messages only: see `session-body.ts`).
 */
export type BodyText = 'ascii' | 'agent' | 'session';

/** `TEXT=agent` or `TEXT=session` makes the benchmarks send those instead of `x`s. */
export const BODY_TEXT: BodyText = process.env.TEXT === 'agent' || process.env.TEXT === 'session' ? process.env.TEXT : 'ascii';

/** Bytes of {@link AGENT_TEXT} in a JSON string (escapes counted). */
const AGENT_BYTES = Buffer.byteLength(JSON.stringify(AGENT_TEXT)) - 2;

/**
 * An Anthropic Messages (or OpenAI chat: the same shape) body of exactly `bytes` bytes.
 * @example
 * messagesBody(1024, true, 'claude-bench-shape-f64-i5-t20')
 */
export function messagesBody(bytes: number, stream = false, model = 'claude-bench', text: BodyText = 'ascii'): string {
  if (text === 'session') return sessionBody(bytes, stream, model, AGENT_TEXT);
  const base = { model, max_tokens: 256, stream, messages: [{ role: 'user', content: '' }] };
  const room = Math.max(0, bytes - JSON.stringify(base).length);
  const units = text === 'agent' ? Math.floor(room / AGENT_BYTES) : 0;
  base.messages[0].content = AGENT_TEXT.repeat(units) + 'x'.repeat(room - units * AGENT_BYTES);
  return JSON.stringify(base);
}

/** A stream as the mock plays it: frames, the interval between them, the time to the first. */
export interface StreamShape {
  readonly frames: number;
  readonly intervalMs: number;
  readonly ttftMs: number;
}

/** The mock's headers for `shape`. */
export function shapeHeaders(shape: StreamShape): Record<string, string> {
  return { 'x-mock-frames': String(shape.frames), 'x-mock-interval-ms': String(shape.intervalMs), 'x-mock-ttft-ms': String(shape.ttftMs) };
}

/** A model name the mock reads `shape` from, for requests whose headers do not reach it (the gateway's unified endpoint). */
export function shapedModel(shape: StreamShape): string {
  return `claude-bench-shape-f${shape.frames}-i${shape.intervalMs}-t${shape.ttftMs}`;
}

/** CPU (all threads of `pid`) per request and the rate served, over one load run. */
export interface LoadCost {
  cpuUs: number;
  rps: number;
}

/**
 * `requests` POSTs of `body` at max throughput, unmeasured: JIT tier-up. A 1 KB request's
 * CPU falls for the first ~60,000 requests of a fresh gateway (105 → 88 µs a request over
 * three runs of 20,000) and ~40,000 of the bare proxy (77 → 62–66), so measurements taken
 * before that time the compiler.
 */
export async function warmUp(url: string, headers: Record<string, string>, body: string, requests: number): Promise<void> {
  if (requests > 0) await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, connections: 16, amount: requests });
}

/** Process CPU (all threads) per request of `pid` over `requests` POSTs of `body`, after a warm-up; 16 connections. */
export async function cpuPerRequest(pid: number, url: string, headers: Record<string, string>, body: string, requests: number): Promise<number> {
  return (await loadCost(pid, url, headers, body, requests)).cpuUs;
}

/**
 * {@link cpuPerRequest} with the request rate it was measured at (the server's CPU per
 * request falls as load batches up). `amount`: a number of requests, or `{ seconds }` for
 * a timed run as `bench/run.ts` makes.
 */
export async function loadCost(pid: number, url: string, headers: Record<string, string>, body: string, amount: number | { seconds: number }): Promise<LoadCost> {
  const base = { url, method: 'POST' as const, headers: { 'content-type': 'application/json', ...headers }, body, connections: 16 };
  await warmUp(url, headers, body, 2000);
  const before = cpuSeconds(pid);
  const started = performance.now();
  let last = started;
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const run = autocannon(typeof amount === 'number' ? { ...base, amount } : { ...base, duration: amount.seconds }, (err, result) => (err ? reject(err) : resolve(result)));
    // A run of N requests ends at autocannon's next one-second tick, not at its last answer:
    // timed from the last answer, or req/s (and the core busy it gives) reads up to a second short.
    if (typeof amount === 'number') run.on('response', () => (last = performance.now()));
  });
  const seconds = ((typeof amount === 'number' ? last : performance.now()) - started) / 1000;
  if (r.non2xx || r.errors) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors at ${url}`);
  const requests = r.requests.total;
  return { cpuUs: ((cpuSeconds(pid) - before) / requests) * 1e6, rps: requests / seconds };
}
