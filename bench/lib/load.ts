/**
 * Load shapes: max throughput (autocannon, closed loop; or a new connection per request),
 * latency at concurrency 1 and at
 * a fixed offered rate (our own raw-socket client, microsecond timing: autocannon's histogram is
 * whole milliseconds), and streams with per-frame timing.
 */
import autocannon from 'autocannon';
import http from 'node:http';
import { Agent, request } from 'undici';
import { sharedClockMs } from './clock.js';
import { openLoop } from './open-loop.js';
import { cpuSeconds, percentile } from './proc.js';
import { shapeHeaders, type StreamShape } from './requests.js';

export interface Target {
  url: string;
  headers: Record<string, string>;
  body: string;
  /**
   * An OpenAI chat body whose stream tag (see {@link streams}) rides as its `user`: the
   * gateway's unified endpoint forwards no client header upstream, but sends `user` on as
   * Anthropic's `metadata.user_id`, where the mock looks for it.
   */
  tagInBody?: boolean;
}

export interface Throughput {
  rps: number;
  requests: number;
  errors: number;
  non2xx: number;
}

export async function maxThroughput(t: Target, seconds: number, connections = 16): Promise<Throughput> {
  const result = await autocannon({
    url: t.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...t.headers },
    body: t.body,
    connections,
    duration: seconds,
    pipelining: 1,
  });
  return { rps: result.requests.average, requests: result.requests.total, errors: result.errors + result.timeouts, non2xx: result.non2xx };
}

/**
 * `count` requests, each on a connection of its own (`Connection: close`), `concurrency` at
 * a time: a client that keeps no connection alive (a script's `requests.post`), whose every
 * request also pays the server's accept, parser set-up and close.
 */
export async function newConnections(t: Target, count: number, concurrency = 8): Promise<Throughput> {
  const url = new URL(t.url);
  const body = Buffer.from(t.body);
  const headers = { 'content-type': 'application/json', ...t.headers, connection: 'close', 'content-length': String(body.length) };
  let left = count;
  let errors = 0;
  let non2xx = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = http.request({ host: url.hostname, port: url.port, method: 'POST', path: url.pathname, agent: false, headers }, (res) => {
        if (res.statusCode !== 200) non2xx++;
        res.resume();
        res.on('end', resolve);
        res.on('error', () => (errors++, resolve()));
      });
      req.on('error', () => (errors++, resolve()));
      req.end(body);
    });
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) await one();
  }));
  return { rps: count / ((performance.now() - start) / 1000), requests: count, errors, non2xx };
}

// Latency runs use as many connections as the throughput runs; streams need many more.
const agent = new Agent({ connections: 16, keepAliveTimeout: 60_000, pipelining: 1 });
const streamAgent = new Agent({ connections: 2048, keepAliveTimeout: 60_000, pipelining: 1 });

async function once(t: Target): Promise<number> {
  const start = performance.now();
  const res = await request(t.url, { method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body: t.body, dispatcher: agent });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  return performance.now() - start;
}

export interface Latency {
  p50: number;
  p99: number;
  samples: number;
  errors: number;
}

/** Sequential requests (concurrency 1). */
export async function latencySerial(t: Target, count: number): Promise<Latency> {
  const samples: number[] = [];
  let errors = 0;
  for (let i = 0; i < count; i++) {
    try {
      samples.push(await once(t));
    } catch {
      errors++;
    }
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length, errors };
}

/**
 * Open loop at `rate` req/s for `seconds` on 16 connections (as many as the throughput
 * runs): latency measured from when each request was issued, a wait for a free connection
 * included (no coordinated omission). See `open-loop.ts` for why not undici.
 */
export async function latencyAtRate(t: Target, rate: number, seconds: number): Promise<Latency> {
  const { samples, errors } = await openLoop(t, rate, seconds, 16);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length, errors };
}

/**
 * A server's CPU per request while it serves `rate` req/s (open loop, {@link latencyAtRate}),
 * after a one-second run at that rate to settle. Every arm measured this way does the same
 * work per second; at max throughput a faster server is driven harder, and a server's CPU
 * per request falls as it is driven harder (more requests handled per wake-up).
 */
export async function cpuAtRate(pid: number, t: Target, rate: number, seconds: number): Promise<Latency & { cpuUs: number }> {
  await latencyAtRate(t, rate, 1);
  const before = cpuSeconds(pid);
  const l = await latencyAtRate(t, rate, seconds);
  return { ...l, cpuUs: ((cpuSeconds(pid) - before) / l.samples) * 1e6 };
}

export interface StreamStats {
  ttfb: number[];
  gaps: number[];
  frames: number[];
  chunks: number[];
  errors: number;
  /**
   * Per stream when tagged: `x-mock-tag`, the wall-clock send and every chunk's arrival (ms;
   * one chunk per frame unless frames were merged).
   */
  tagged: Array<{ tag: string; sent: number; arrivals: number[] }>;
}

/** When the mock received a tagged request and wrote each frame (wall-clock ms). */
export interface MockStamp {
  recv: number;
  /** Each frame's write; empty for streams with neither an interval nor a time to first token. */
  writes: number[];
}

/**
 * Each frame's transit from the mock's write to the client's read (ms), frames after the
 * first (TTFB covers that one), for tagged streams whose frames came one chunk each: the
 * path through the proxy without the mock's timers or the client's own schedule between
 * frames, which a gap between arrivals includes. Both ends read the machine's monotonic
 * clock (`sharedClockMs`), the same in every process.
 */
export function frameTransits(tagged: StreamStats['tagged'], mock: Record<string, MockStamp | undefined>): number[] {
  const out: number[] = [];
  for (const t of tagged) {
    const writes = mock[t.tag]?.writes;
    if (!writes || writes.length !== t.arrivals.length) continue;
    for (let j = 1; j < writes.length; j++) out.push(t.arrivals[j] - writes[j]);
  }
  return out;
}

/** The mock's stamps of tagged requests since the last read (reading clears them). */
export async function mockTimes(mockUrl: string): Promise<Record<string, MockStamp | undefined>> {
  return (await (await request(`${mockUrl}/mock-times`)).body.json()) as Record<string, MockStamp | undefined>;
}

/**
 * Open `count` streams at once; record time to first byte, gaps between frames, frames and
 * chunks seen. With `tag`, stream i carries `x-mock-tag: mt-<tag>-<i>` (as its `user` with
 * `t.tagInBody`) so the mock's own receipt and first-frame times can be matched to it
 * (GET /mock-times).
 */
export async function streams(t: Target, count: number, streamHeaders: Record<string, string>, tag?: string): Promise<StreamStats> {
  const stats: StreamStats = { ttfb: [], gaps: [], frames: [], chunks: [], errors: 0, tagged: [] };
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      try {
        const streamTag = tag === undefined ? undefined : `mt-${tag}-${i}`;
        const tagHeader: Record<string, string> = streamTag === undefined || t.tagInBody ? {} : { 'x-mock-tag': streamTag };
        const body = streamTag !== undefined && t.tagInBody ? `{"user":"${streamTag}",${t.body.slice(1)}` : t.body;
        const sent = sharedClockMs();
        const start = performance.now();
        const res = await request(t.url, { method: 'POST', headers: { 'content-type': 'application/json', ...t.headers, ...streamHeaders, ...tagHeader }, body, dispatcher: streamAgent });
        let last = 0;
        let frames = 0;
        let chunks = 0;
        const arrivals: number[] = [];
        for await (const chunk of res.body) {
          const now = performance.now();
          if (streamTag !== undefined) arrivals.push(sharedClockMs());
          if (chunks === 0) {
            stats.ttfb.push(now - start);
            if (streamTag !== undefined) stats.tagged.push({ tag: streamTag, sent, arrivals });
          } else stats.gaps.push(now - last);
          last = now;
          chunks++;
          frames += countFrames(chunk as Buffer);
        }
        stats.frames.push(frames);
        stats.chunks.push(chunks);
        if (res.statusCode !== 200) stats.errors++;
      } catch {
        stats.errors++;
      }
    }),
  );
  return stats;
}

function countFrames(chunk: Buffer): number {
  let n = 0;
  let i = -1;
  while ((i = chunk.indexOf('\n\n', i + 1)) >= 0) n++;
  return n;
}

/** The warm-up's streams: short, their frames one by one. A unified-endpoint target carries it in its model's name (`shapedModel(WARM_SHAPE)`). */
export const WARM_SHAPE: StreamShape = { frames: 16, intervalMs: 1, ttftMs: 1 };

/**
 * Bursts of `count` {@link WARM_SHAPE} streams for `seconds`: a stream path's
 * warm-up. V8 compiles a function with its optimizing tier only after enough runs of it, and
 * the gateway's stream path (SSE delivery, usage meter) is code the bare proxy does not have:
 * measured after 600 streams, its TTFB rows timed that tier-up, the compiles included (they
 * run on the server's pinned core). Bursts, not one full-load run: they leave the type
 * feedback a burst of separate frames does. `tagged`: the streams carry tags as the
 * measured ones will — a request with a header (or, unified, a body member) the warm-up
 * never had is an object of a new shape to V8, and the gateway's request path, compiled
 * for the old ones, is deoptimized and compiled again during the first measured bursts
 * (`--trace-deopt`: `handle`, `forwardUpstream`, the auth filter's `claim`, … "wrong map").
 * The mock then holds the warm-up's stamps: read them (`mockTimes`) before measuring.
 * Returns the number of streams run.
 */
export async function warmStreams(t: Target, seconds: number, opts: { tagged?: boolean } = {}): Promise<number> {
  const count = 20;
  const until = performance.now() + seconds * 1000;
  let run = 0;
  while (performance.now() < until) {
    await streams(t, count, shapeHeaders(WARM_SHAPE), opts.tagged ? `warm-${run}` : undefined);
    run += count;
  }
  return run;
}
