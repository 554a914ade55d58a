/**
 * A burst's time to first byte, split where it is spent: N streams started at once through
 * the bare proxy and the gateway, each tagged so the mock records when it received the
 * request and when it wrote the first frame (wall clock, comparable across processes).
 *
 *   inbound   client send → mock received it (the client's own queue, the proxy's request path)
 *   mock      mock received → first frame written (its TTFT timer, late when its core is busy)
 *   outbound  first frame written → client got it (the proxy's response path, the client's reads)
 *
 *   npx tsx bench/burst-ttfb.ts            # bursts of 20, 20 ms TTFT, 8 alternating rounds
 *   N=50 R=12 TTFT=5 npx tsx bench/burst-ttfb.ts
 *   WARMUP=1 WARMUP_SECONDS=0 npx tsx bench/burst-ttfb.ts   # a cold gateway: one warm-up burst, no stream load first
 *   CONFIG=my.yaml npx tsx bench/burst-ttfb.ts   # another gateway config (default bench/gateway.yaml)
 *   GATEWAY=/tmp/base/dist/bin/ai-gateway.cjs npx tsx bench/burst-ttfb.ts   # another build
 *   NODE_FLAGS='--import=./stamps.mjs' npx tsx bench/burst-ttfb.ts   # flags for both proxies
 *   UNIFIED=1 npx tsx bench/burst-ttfb.ts   # OpenAI streams, the gateway's through its unified endpoint
 *                                           # (tagged by their `user`; no frame rows: its translation
 *                                           # leaves some events without a chunk)
 *
 * The servers run on core 0; this process and the mock on core 1 (as in bench/run.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { frameTransits, mockTimes, streams, WARM_SHAPE, warmStreams, type StreamStats } from './lib/load.js';
import { median, percentile, pinSelf } from './lib/proc.js';
import { shapeHeaders, type StreamShape } from './lib/requests.js';
import { startServers, streamArms, streamTarget, type StreamArm } from './lib/servers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BURST = Number(process.env.N ?? 20);
const ROUNDS = Number(process.env.R ?? 8);
const TTFT = Number(process.env.TTFT ?? 20);
const WARMUP = Number(process.env.WARMUP ?? 30);
/** Seconds of short stream bursts per arm (warmStreams) before the warm-up bursts. */
const WARMUP_SECONDS = Number(process.env.WARMUP_SECONDS ?? 20);
const FRAMES = Number(process.env.FRAMES ?? 8);
const SHAPE: StreamShape = { frames: FRAMES, intervalMs: 5, ttftMs: TTFT };
/** OpenAI chat completions streams; the mock is shaped by the model's name, which the unified endpoint forwards. */
const UNIFIED = process.env.UNIFIED === '1';
const CONFIG = path.resolve(process.env.CONFIG ?? path.join(here, 'gateway.yaml'));
pinSelf(1);

interface Split {
  /** Client-side gaps between a stream's frames (5 ms apart at the mock). */
  gaps: number[];
  /** Each later frame's mock write → client read (frameTransits). */
  transit: number[];
  /** Every stream's time to first byte; the columns after it only for streams the mock saw tagged. */
  ttfb: number[];
  inbound: number[];
  mock: number[];
  outbound: number[];
}

/** One burst through `arm`, each stream tagged `<arm>-<round>-<i>`. */
function burst(arm: StreamArm, round: number): Promise<StreamStats> {
  return streams(streamTarget(arm, SHAPE), BURST, shapeHeaders(SHAPE), `${arm.name}-${round}`);
}

function row(v: number[]): string {
  if (v.length === 0) return '–';
  return `${median(v).toFixed(2)} / ${percentile(v, 99).toFixed(2)}`;
}

async function main(): Promise<void> {
  const servers = await startServers({ config: CONFIG, gateway: process.env.GATEWAY, nodeFlags: (process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean) });
  const mockUrl = servers.mockUrl;
  try {
    const arms = streamArms(servers, UNIFIED);

    const split = new Map<string, Split>(arms.map((a) => [a.name, { gaps: [], transit: [], ttfb: [], inbound: [], mock: [], outbound: [] }]));
    // Warm-up: connections opened, and the hot paths compiled by V8's optimizing tier (a
    // gateway that has served traffic). 30 bursts alone (600 streams) left the gateway's
    // stream path still being compiled, on the pinned core: its p50 TTFB sat ~2.5 ms over
    // bare's, against ~0.5 ms after 300 bursts or 20 s of short ones (see warmStreams).
    for (const arm of arms) if (WARMUP_SECONDS > 0) await warmStreams(streamTarget(arm, WARM_SHAPE), WARMUP_SECONDS, { tagged: true });
    for (let w = 0; w < WARMUP; w++) for (const arm of arms) await burst(arm, -1 - w);
    await mockTimes(mockUrl); // the warm-up's stamps, dropped
    for (let round = 0; round < ROUNDS; round++) {
      for (const arm of round % 2 === 0 ? arms : [...arms].reverse()) {
        const client = await burst(arm, round);
        const mock = await mockTimes(mockUrl);
        const s = split.get(arm.name)!;
        if (!UNIFIED) s.gaps.push(...client.gaps);
        s.transit.push(...frameTransits(client.tagged, mock));
        s.ttfb.push(...client.ttfb);
        for (const c of client.tagged) {
          const m = mock[c.tag];
          const written = m?.writes[0];
          if (!m || written === undefined) continue;
          s.inbound.push(m.recv - c.sent);
          s.mock.push(written - m.recv);
          s.outbound.push(c.arrivals[0] - written);
        }
      }
    }
    process.stdout.write('| arm | TTFB p50 / p99 | inbound | mock (TTFT timer) | outbound | frame gap | frame transit |\n|---|---|---|---|---|---|---|\n');
    for (const arm of arms) {
      const s = split.get(arm.name)!;
      process.stdout.write(`| ${arm.name} | ${row(s.ttfb)} | ${row(s.inbound)} | ${row(s.mock)} | ${row(s.outbound)} | ${row(s.gaps)} | ${row(s.transit)} |\n`);
    }
    process.stdout.write(`\nms, p50 / p99 over ${ROUNDS} alternating rounds of ${BURST} streams at once (${TTFT} ms TTFT); servers on core 0, this process and the mock on core 1.\n`);
  } finally {
    await servers.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
