/**
 * CPU per stream in a burst: the main thread's CPU time (the scheduler's own nanosecond
 * accounting) each proxy spends on N streams started at once, with the process idle before
 * the burst ("spaced", as the bench's TTFB rows send them) and with bursts back to back
 * ("back to back", a busy proxy). A burst's slowest first byte waits for every stream's
 * work on the single pinned core, so this is the cost the TTFB rows multiply; spaced against
 * back to back tells work from cold caches.
 *
 *   npx tsx bench/burst-cpu.ts              # bursts of 20 one-frame streams, 20 ms TTFT, 12 rounds
 *   N=20 R=24 TTFT=20 npx tsx bench/burst-cpu.ts
 *   UNIFIED=1 npx tsx bench/burst-cpu.ts    # OpenAI streams: the gateway's unified endpoint, translating
 *
 * The servers run on core 0; this process and the mock on core 1 (as in bench/run.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { streams, WARM_SHAPE, warmStreams } from './lib/load.js';
import { median, pinSelf, schedCpuMs } from './lib/proc.js';
import { shapeHeaders, type StreamShape } from './lib/requests.js';
import { startServers, streamArms, streamTarget, type StreamArm } from './lib/servers.js';

const BURST = Number(process.env.N ?? 20);
const ROUNDS = Number(process.env.R ?? 12);
const TTFT = Number(process.env.TTFT ?? 20);
/** The unified TTFB row's streams: the bare proxy passes OpenAI through, the gateway translates to Anthropic and back. */
const UNIFIED = process.env.UNIFIED === '1';
/** Spaced bursts per arm and round. */
const SPACED = 3;
/** Back-to-back bursts per round: enough that the first one's cold start is a small part. */
const BACK_TO_BACK = 10;
/** Idle before a spaced burst: the TTFB rows' bursts come ~350 ms apart. */
const IDLE_MS = 300;
const SHAPE: StreamShape = { frames: 1, intervalMs: 5, ttftMs: TTFT };
pinSelf(1);

interface Figures {
  spaced: number[];
  backToBack: number[];
  spacedTtfbMax: number[];
}

/** Main-thread CPU µs per stream over `bursts` bursts through `arm`, and each burst's slowest first byte. */
async function measure(arm: StreamArm, bursts: number, idleMs: number, tag: string): Promise<{ usPerStream: number; ttfbMax: number[] }> {
  const ttfbMax: number[] = [];
  let cpu = 0;
  for (let b = 0; b < bursts; b++) {
    if (idleMs > 0) await sleep(idleMs);
    const before = schedCpuMs(arm.pid).main;
    const s = await streams(streamTarget(arm, SHAPE), BURST, shapeHeaders(SHAPE), `${tag}-${b}`);
    // The streams' completion work (audit line, usage) runs as their ends are written.
    await sleep(20);
    cpu += schedCpuMs(arm.pid).main - before;
    if (s.errors) throw new Error(`${arm.name}: ${s.errors} streams failed`);
    ttfbMax.push(Math.max(...s.ttfb));
  }
  return { usPerStream: (cpu * 1000) / (bursts * BURST), ttfbMax };
}

async function main(): Promise<void> {
  const servers = await startServers();
  try {
    const arms = streamArms(servers, UNIFIED);
    for (const arm of arms) await warmStreams(streamTarget(arm, WARM_SHAPE), 15, { tagged: true });
    const figures = new Map<string, Figures>(arms.map((a) => [a.name, { spaced: [], backToBack: [], spacedTtfbMax: [] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const arm of round % 2 === 0 ? arms : [...arms].reverse()) {
        const f = figures.get(arm.name)!;
        const spaced = await measure(arm, SPACED, IDLE_MS, `s-${round}`);
        f.spaced.push(spaced.usPerStream);
        f.spacedTtfbMax.push(...spaced.ttfbMax);
        f.backToBack.push((await measure(arm, BACK_TO_BACK, 0, `b-${round}`)).usPerStream);
      }
    }
    const bare = figures.get('bare')!;
    const gw = figures.get('gateway')!;
    const pair = (g: number[], b: number[]): string => median(g.map((v, i) => v / b[i])).toFixed(2);
    process.stdout.write('| main-thread CPU per stream | bare | gateway | g / b (paired) |\n|---|---|---|---|\n');
    process.stdout.write(`| spaced bursts (${IDLE_MS} ms idle before each) | ${median(bare.spaced).toFixed(1)} µs | ${median(gw.spaced).toFixed(1)} µs | ${pair(gw.spaced, bare.spaced)} |\n`);
    process.stdout.write(`| back-to-back bursts | ${median(bare.backToBack).toFixed(1)} µs | ${median(gw.backToBack).toFixed(1)} µs | ${pair(gw.backToBack, bare.backToBack)} |\n`);
    process.stdout.write(`| spaced bursts' slowest first byte, median | ${median(bare.spacedTtfbMax).toFixed(2)} ms | ${median(gw.spacedTtfbMax).toFixed(2)} ms | |\n`);
    process.stdout.write(`\nBursts of ${BURST} one-frame ${UNIFIED ? 'OpenAI streams through the unified endpoint' : 'streams'} (${TTFT} ms TTFT), medians of ${ROUNDS} alternating rounds (${SPACED} spaced and ${BACK_TO_BACK} back-to-back bursts per arm and round); main thread only (/proc schedstat); servers on core 0, this process and the mock on core 1.\n`);
  } finally {
    await servers.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
