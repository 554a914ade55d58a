/**
 * Bytes allocated per request, by allocating function, gateway against the bare proxy:
 * V8's sampling heap profiler (over the inspector) runs while each arm serves a fixed
 * load. Allocation volume drives scavenge frequency; this shows where it comes from.
 *
 *   npx tsx bench/alloc-profile.ts              # 1 KB non-streaming requests, top 30 sites
 *   STREAM=1 TOP=50 npx tsx bench/alloc-profile.ts
 *   GATEWAY=/tmp/base/dist/bin/ai-gateway.cjs npx tsx bench/alloc-profile.ts   # another build
 *   CALLERS=2 npx tsx bench/alloc-profile.ts   # each site with the two functions that called it
 *
 * The servers run on core 0; this process (autocannon) and the mock on core 1.
 */
import { heapReader } from './lib/inspector.js';
import { maxThroughput, type Target } from './lib/load.js';
import { messagesBody } from './lib/requests.js';
import { GATEWAY_HEADERS, startServers } from './lib/servers.js';
import { pinSelf, type Started } from './lib/proc.js';

const TOP = Number(process.env.TOP ?? 30);
const STREAM = process.env.STREAM === '1';
const CALLERS = Number(process.env.CALLERS ?? 0);
pinSelf(1);

async function profile(name: string, proc: Started, target: Target): Promise<void> {
  const reader = await heapReader(proc);
  try {
    await maxThroughput(target, 3); // warm-up: optimized code allocates differently
    let requests = 0;
    const bytes = await reader.allocations(async () => {
      requests = (await maxThroughput(target, 4)).requests;
    }, undefined, CALLERS);
    const total = [...bytes.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(`\n${name}: ${requests} requests, ${(total / requests / 1024).toFixed(1)} KiB allocated per request\n`);
    for (const [site, b] of [...bytes].sort((x, y) => y[1] - x[1]).slice(0, TOP)) {
      process.stdout.write(`${(b / requests).toFixed(0).padStart(7)} B  ${site}\n`);
    }
  } finally {
    reader.close();
  }
}

async function main(): Promise<void> {
  const servers = await startServers({ gateway: process.env.GATEWAY, nodeFlags: ['--inspect=127.0.0.1:0'] });
  try {
    const body = messagesBody(1024, STREAM);
    await profile('bare', servers.bare, { url: servers.bareUrl, headers: {}, body });
    await profile('gateway', servers.gateway, { url: servers.gatewayUrl, headers: { ...GATEWAY_HEADERS }, body });
  } finally {
    await servers.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
