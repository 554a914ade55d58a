/**
 * Live memory per concurrent stream, gateway against the bare proxy: each holds N open
 * 64-frame streams (a frame every 50 ms), and the heap and external memory are read over
 * the inspector after a full GC, idle and while every stream is open. RSS (what
 * `bench/run.ts` reports) mostly shows how far a heap once grew; this is what a stream
 * really keeps alive. Rounds alternate between the arms; medians are reported.
 *
 *   npx tsx bench/stream-memory.ts            # 1,000 streams, 3 rounds
 *   N=200 R=5 npx tsx bench/stream-memory.ts
 *   BODY=100000 N=300 npx tsx bench/stream-memory.ts   # an agent-sized prompt per stream (default 1 KB)
 *   CONFIG=my.yaml npx tsx bench/stream-memory.ts
 *   GATEWAY=/tmp/base/dist/bin/ai-gateway.js npx tsx bench/stream-memory.ts   # another build
 *   SNAPSHOTS=/tmp/snaps npx tsx bench/stream-memory.ts   # heap snapshots, idle and held, last round
 *
 * The servers run on core 0; this process and the mock on core 1.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request, type Dispatcher } from 'undici';
import { heapReader, type HeapReader, type LiveMemory } from './lib/inspector.js';
import { median } from './lib/proc.js';
import { messagesBody } from './lib/requests.js';
import { GATEWAY_HEADERS, startServers } from './lib/servers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const STREAMS = Number(process.env.N ?? 1000);
const ROUNDS = Number(process.env.R ?? 3);
const BODY_BYTES = Number(process.env.BODY ?? 1024);
const CONFIG = path.resolve(process.env.CONFIG ?? path.join(here, 'gateway.yaml'));
const SNAPSHOTS = process.env.SNAPSHOTS;
const GATEWAY = path.resolve(process.env.GATEWAY ?? path.join(root, 'dist/bin/ai-gateway.js'));
const FRAMES = 64;
const STREAM_HEADERS = { 'content-type': 'application/json', 'x-mock-frames': String(FRAMES), 'x-mock-interval-ms': '50' };
spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });

interface Arm {
  name: string;
  url: string;
  headers: Record<string, string>;
  memory: HeapReader;
}

const agent = new Agent({ connections: STREAMS + 16, keepAliveTimeout: 60_000, pipelining: 1 });

/** Open `count` streams; resolves once every one has its first bytes, with a way to finish them. */
async function holdStreams(arm: Arm, count: number): Promise<{ finish: () => Promise<number> }> {
  const body = messagesBody(BODY_BYTES, true);
  const opened = await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await request(arm.url, { method: 'POST', headers: { ...STREAM_HEADERS, ...arm.headers }, body, dispatcher: agent });
      const it = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      const first = await it.next();
      return { res, it, first };
    }),
  );
  return {
    // Read every stream to its end; returns how many brought all their frames.
    finish: async () => {
      const whole = await Promise.all(
        opened.map(async ({ res, it, first }: { res: Dispatcher.ResponseData; it: AsyncIterator<Buffer>; first: IteratorResult<Buffer> }) => {
          let text = first.done ? '' : first.value.toString();
          for (let r = await it.next(); !r.done; r = await it.next()) text += r.value.toString();
          return res.statusCode === 200 && text.split('\n\n').length - 1 >= FRAMES;
        }),
      );
      return whole.filter(Boolean).length;
    },
  };
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

async function main(): Promise<void> {
  const servers = await startServers({ config: CONFIG, gateway: GATEWAY, nodeFlags: ['--inspect=127.0.0.1:0'] });
  try {
    const arms: Arm[] = [
      { name: 'bare', url: servers.bareUrl, headers: {}, memory: await heapReader(servers.bare) },
      { name: 'gateway', url: servers.gatewayUrl, headers: { ...GATEWAY_HEADERS }, memory: await heapReader(servers.gateway) },
    ];

    const perStream = new Map<string, { heap: number[]; external: number[] }>(arms.map((a) => [a.name, { heap: [], external: [] }]));
    const incomplete = new Map<string, number>(arms.map((a) => [a.name, 0]));
    // A warm-up round per arm opens the client's keep-alive connections (the sockets then
    // count as idle memory, as in a long-running gateway) and pays first-time heap growth.
    for (const arm of arms) await (await holdStreams(arm, STREAMS)).finish();
    for (let round = 0; round < ROUNDS; round++) {
      for (const arm of round % 2 === 0 ? arms : [...arms].reverse()) {
        const snap = SNAPSHOTS && round === ROUNDS - 1 ? (what: string) => arm.memory.snapshot(path.join(SNAPSHOTS, `${arm.name}-${what}.heapsnapshot`)) : undefined;
        const idle: LiveMemory = await arm.memory.liveMemory();
        await snap?.('idle');
        const held = await holdStreams(arm, STREAMS);
        const open: LiveMemory = await arm.memory.liveMemory();
        await snap?.('held');
        const whole = await held.finish();
        incomplete.set(arm.name, incomplete.get(arm.name)! + STREAMS - whole);
        perStream.get(arm.name)!.heap.push((open.heap - idle.heap) / STREAMS);
        perStream.get(arm.name)!.external.push((open.external - idle.external) / STREAMS);
        process.stderr.write(`round ${round + 1} ${arm.name}: heap ${kib((open.heap - idle.heap) / STREAMS)} KiB, external ${kib((open.external - idle.external) / STREAMS)} KiB per stream, ${whole}/${STREAMS} whole\n`);
      }
    }
    const heap = (name: string) => median(perStream.get(name)!.heap);
    const external = (name: string) => median(perStream.get(name)!.external);
    process.stdout.write('| arm | heap KiB/stream | external KiB/stream | total | × bare | streams not whole |\n|---|---|---|---|---|---|\n');
    for (const arm of arms) {
      const total = heap(arm.name) + external(arm.name);
      const ratio = total / (heap('bare') + external('bare'));
      process.stdout.write(`| ${arm.name} | ${kib(heap(arm.name))} | ${kib(external(arm.name))} | ${kib(total)} | ${ratio.toFixed(2)} | ${incomplete.get(arm.name)} |\n`);
    }
    process.stdout.write(`\n${STREAMS} streams of ${FRAMES} frames (50 ms apart) held at once, ${BODY_BYTES} B request bodies, ${ROUNDS} alternating rounds (medians), live memory after a full GC; servers on core 0, load and mock on core 1.\n`);
    for (const arm of arms) arm.memory.close();
  } finally {
    await servers.stop();
    await agent.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
