/** What the benchmarks send, and the CPU-per-request measure they share. */
import autocannon from 'autocannon';
import { cpuSeconds } from './proc.js';

/**
 * An Anthropic Messages (or OpenAI chat: the same shape) body of `bytes` bytes.
 * @example
 * messagesBody(1024, true, 'claude-bench-shape-f64-i5-t20')
 */
export function messagesBody(bytes: number, stream = false, model = 'claude-bench'): string {
  const base = { model, max_tokens: 256, stream, messages: [{ role: 'user', content: '' }] };
  base.messages[0].content = 'x'.repeat(Math.max(0, bytes - JSON.stringify(base).length));
  return JSON.stringify(base);
}

/** CPU (all threads of `pid`) per request and the rate served, over one load run. */
export interface LoadCost {
  cpuUs: number;
  rps: number;
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
  await autocannon({ ...base, amount: 2000 });
  const before = cpuSeconds(pid);
  const started = performance.now();
  const r = await autocannon(typeof amount === 'number' ? { ...base, amount } : { ...base, duration: amount.seconds });
  const seconds = (performance.now() - started) / 1000;
  if (r.non2xx || r.errors) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors at ${url}`);
  const requests = r.requests.total;
  return { cpuUs: ((cpuSeconds(pid) - before) / requests) * 1e6, rps: requests / seconds };
}
