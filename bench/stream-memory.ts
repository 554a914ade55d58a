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
 *   GATEWAY=/tmp/base/dist/bin/ai-gateway.cjs npx tsx bench/stream-memory.ts   # another build
 *   SNAPSHOTS=/tmp/snaps npx tsx bench/stream-memory.ts   # heap snapshots, idle and held, last round
 *   MODES=fresh npx tsx bench/stream-memory.ts   # one way of counting (default: warm,fresh)
 *   JSON_OUT=file.json npx tsx bench/stream-memory.ts   # also the per-round figures as JSON (npm run bench reads them)
 *
 * The servers run on core 0; this process and the mock on core 1.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request, type Dispatcher } from 'undici';
import { heapReader, type HeapReader, type LiveMemory } from './lib/inspector.js';
import { gatewayEntry, median, pinSelf } from './lib/proc.js';
import { messagesBody } from './lib/requests.js';
import { GATEWAY_HEADERS, startServers } from './lib/servers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const STREAMS = Number(process.env.N ?? 1000);
const ROUNDS = Number(process.env.R ?? 3);
const BODY_BYTES = Number(process.env.BODY ?? 1024);
const CONFIG = path.resolve(process.env.CONFIG ?? path.join(here, 'gateway.yaml'));
const SNAPSHOTS = process.env.SNAPSHOTS;
const JSON_OUT = process.env.JSON_OUT;
const GATEWAY = path.resolve(process.env.GATEWAY ?? gatewayEntry(root));
const MODES = (process.env.MODES ?? 'warm,fresh').split(',').filter((m): m is Mode => m === 'warm' || m === 'fresh');
const FRAMES = 64;
const STREAM_HEADERS = { 'content-type': 'application/json', 'x-mock-frames': String(FRAMES), 'x-mock-interval-ms': '50' };
pinSelf(1);

type Mode = 'warm' | 'fresh';

interface Arm {
  name: string;
  url: string;
  headers: Record<string, string>;
  memory: HeapReader;
}

function newAgent(): Agent {
  return new Agent({ connections: STREAMS + 16, keepAliveTimeout: 60_000, pipelining: 1 });
}

/** Each arm's client connections, apart so that closing one arm's leaves the other's open. */
const agents = new Map<string, Agent>();

function agentFor(arm: Arm): Agent {
  return agents.get(arm.name) ?? agents.set(arm.name, newAgent()).get(arm.name)!;
}

/** Close the arm's client connections (its server sees them go); the next streams open new ones. */
async function dropConnections(arm: Arm): Promise<void> {
  await agentFor(arm).close();
  agents.delete(arm.name);
  await new Promise((resolve) => setTimeout(resolve, 500));
}

/** Open `count` streams; resolves once every one has its first bytes, with a way to finish them. */
async function holdStreams(arm: Arm, count: number): Promise<{ finish: () => Promise<number> }> {
  const body = messagesBody(BODY_BYTES, true);
  const opened = await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await request(arm.url, { method: 'POST', headers: { ...STREAM_HEADERS, ...arm.headers }, body, dispatcher: agentFor(arm) });
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

    const perStream = new Map<string, { heap: number[]; external: number[] }>();
    const incomplete = new Map<string, number>();
    const key = (mode: Mode, arm: Arm) => `${mode} ${arm.name}`;
    // A warm-up round per arm opens the client's keep-alive connections and pays first-time heap growth.
    for (const arm of arms) await (await holdStreams(arm, STREAMS)).finish();
    for (let round = 0; round < ROUNDS; round++) {
      for (const arm of round % 2 === 0 ? arms : [...arms].reverse()) {
        for (const mode of MODES) {
          if (mode === 'fresh') await dropConnections(arm);
          const snap = SNAPSHOTS && round === ROUNDS - 1 ? (what: string) => arm.memory.snapshot(path.join(SNAPSHOTS, `${arm.name}-${mode}-${what}.heapsnapshot`)) : undefined;
          const idle: LiveMemory = await arm.memory.liveMemory();
          await snap?.('idle');
          const held = await holdStreams(arm, STREAMS);
          const open: LiveMemory = await arm.memory.liveMemory();
          await snap?.('held');
          const whole = await held.finish();
          const k = key(mode, arm);
          incomplete.set(k, (incomplete.get(k) ?? 0) + STREAMS - whole);
          const figures = perStream.get(k) ?? perStream.set(k, { heap: [], external: [] }).get(k)!;
          figures.heap.push((open.heap - idle.heap) / STREAMS);
          figures.external.push((open.external - idle.external) / STREAMS);
          process.stderr.write(`round ${round + 1} ${k}: heap ${kib((open.heap - idle.heap) / STREAMS)} KiB, external ${kib((open.external - idle.external) / STREAMS)} KiB per stream, ${whole}/${STREAMS} whole\n`);
        }
      }
    }
    const heap = (k: string) => median(perStream.get(k)!.heap);
    const external = (k: string) => median(perStream.get(k)!.external);
    process.stdout.write('| connections | arm | heap KiB/stream | external KiB/stream | total | × bare | streams not whole |\n|---|---|---|---|---|---|---|\n');
    for (const mode of MODES) {
      const bare = key(mode, arms[0]);
      for (const arm of arms) {
        const k = key(mode, arm);
        const total = heap(k) + external(k);
        const ratio = total / (heap(bare) + external(bare));
        process.stdout.write(`| ${mode} | ${arm.name} | ${kib(heap(k))} | ${kib(external(k))} | ${kib(total)} | ${ratio.toFixed(2)} | ${incomplete.get(k)} |\n`);
      }
    }
    process.stdout.write(`\n${STREAMS} streams of ${FRAMES} frames (50 ms apart) held at once, ${BODY_BYTES} B request bodies, ${ROUNDS} alternating rounds (medians), live memory after a full GC; warm: on the client's keep-alive connections from the round before; fresh: on new connections, none open at the idle reading; servers on core 0, load and mock on core 1.\n`);
    if (JSON_OUT) {
      // KiB per stream, heap and external memory together, one value per round: `<mode> <arm>` → rounds.
      const perRound = Object.fromEntries([...perStream].map(([k, f]) => [k, f.heap.map((h, i) => (h + f.external[i]) / 1024)]));
      writeFileSync(JSON_OUT, JSON.stringify({ streams: STREAMS, rounds: ROUNDS, bodyBytes: BODY_BYTES, kibPerStream: perRound, incomplete: Object.fromEntries(incomplete) }, null, 2));
    }
    for (const arm of arms) arm.memory.close();
  } finally {
    await servers.stop();
    await Promise.all([...agents.values()].map((a) => a.close()));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
