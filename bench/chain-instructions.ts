/**
 * Instructions per 1 KB request as the gateway's filters are added one by one, against the
 * bare proxy, counted by valgrind's callgrind (bench/lib/callgrind.ts): what each filter
 * costs, by a count the host's load does not move (bench/chain-cost.ts times the same steps
 * in CPU seconds, whose noise is larger than one filter). Every arm runs under callgrind on
 * core 0 (counting only in its own windows), the load and the mock on core 1; the arms take
 * their windows in turn, the order reversed each round. For each step it also names the
 * functions that grew most over the step before.
 *
 *   npx tsx bench/chain-instructions.ts                 # ~8 min; needs valgrind
 *   WINDOWS=5 N=4000 TOP=8 npx tsx bench/chain-instructions.ts
 *
 * Counts are of user space; see bench/instructions.ts for what that leaves out and inflates
 * (SHA-256 without SHA-NI under valgrind: the audit step's 22 K).
 */
import autocannon from 'autocannon';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/ports.js';
import { countPerRequest, functionLine, kilo, medianWindow, shareOf, spawnCounted, startMockAndCountedBare, withoutCompiler, type Counted, type Profile } from './lib/callgrind.js';
import { CHAIN_FILTERS, chainConfig, chainStepName } from './lib/chain-configs.js';
import { gatewayEntry, median, pinSelf, SERVER_NODE_FLAGS, waitFor200, type Started } from './lib/proc.js';
import { messagesBody } from './lib/requests.js';
import { benchGatewayEnv } from './lib/servers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const WINDOWS = Number(process.env.WINDOWS ?? 3);
const N = Number(process.env.N ?? 2000);
const WARMUP = Number(process.env.WARMUP ?? 20_000);
const TOP = Number(process.env.TOP ?? 5);
const BODY = messagesBody(1024);
pinSelf(1);

interface Arm {
  name: string;
  url: string;
  headers: Record<string, string>;
  server: Counted;
  windows: Profile[];
}

async function fire(arm: Arm, amount: number): Promise<void> {
  const r = await autocannon({ url: arm.url, method: 'POST', headers: { 'content-type': 'application/json', ...arm.headers }, body: BODY, connections: 16, amount, timeout: 120 });
  if (r.non2xx || r.errors || r.timeouts) throw new Error(`${arm.name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
}

/**
 * Functions whose instructions grew most from `before` to `after`, the compiler's left out as
 * in the table (JIT code the perf map left unnamed is one entry).
 */
function grewMost(before: Profile, after: Profile): Array<[string, number]> {
  const key = (fn: string): string => (fn.startsWith('0x') ? 'JIT code, unnamed' : fn);
  const sum = (p: Profile): Map<string, number> => {
    const m = new Map<string, number>();
    for (const [fn, n] of p.self) if (shareOf(fn) !== 'V8 compiler') m.set(key(fn), (m.get(key(fn)) ?? 0) + n);
    return m;
  };
  const b = sum(before);
  const a = sum(after);
  const grown = [...new Set([...a.keys(), ...b.keys()])].map((fn): [string, number] => [fn, (a.get(fn) ?? 0) - (b.get(fn) ?? 0)]);
  return grown.sort((x, y) => y[1] - x[1]).slice(0, TOP);
}

function report(arms: Arm[]): void {
  const bare = median(arms[0].windows.map(withoutCompiler));
  const out = [
    `Instructions per 1 KB request in user space (valgrind callgrind), without the V8 compiler's share; median of ${WINDOWS} windows of ${N} [min–max]`,
    `${'arm'.padEnd(22)}${'instructions'.padStart(26)}${'× bare'.padStart(9)}${'this step'.padStart(12)}`,
  ];
  let previous: Arm | undefined;
  for (const arm of arms) {
    const counts = arm.windows.map(withoutCompiler);
    const m = median(counts);
    const step = previous ? kilo(m - median(previous.windows.map(withoutCompiler)), true) : '';
    const cell = `${kilo(m)} [${(Math.min(...counts) / 1000).toFixed(0)}–${(Math.max(...counts) / 1000).toFixed(0)}]`;
    out.push(`${arm.name.padEnd(22)}${cell.padStart(26)}${(m / bare).toFixed(2).padStart(9)}${step.padStart(12)}`);
    previous = arm;
  }
  for (let i = 1; i < arms.length; i++) {
    out.push('', `${arms[i].name}: grew most over ${arms[i - 1].name} (median windows, per request)`);
    for (const [fn, n] of grewMost(medianWindow(arms[i - 1].windows, withoutCompiler), medianWindow(arms[i].windows, withoutCompiler))) out.push(functionLine(n, fn));
  }
  console.log(out.join('\n'));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-bench-'));
  const started: Started[] = [];
  try {
    const { mockUrl, bare, bareUrl } = await startMockAndCountedBare(dir, started);
    const arms: Arm[] = [{ name: 'bare proxy', url: bareUrl, headers: {}, server: bare, windows: [] }];
    for (let n = 0; n <= CHAIN_FILTERS.length; n++) {
      const file = path.join(dir, `config-${n}.yaml`);
      writeFileSync(file, chainConfig(n));
      const port = await freePort();
      const gateway = spawnCounted(`gateway-${n}`, 0, dir, [...SERVER_NODE_FLAGS, gatewayEntry(root), '--config', file], benchGatewayEnv(port, mockUrl, path.join(dir, `audit-${n}.jsonl`)));
      started.push(gateway);
      const url = `http://127.0.0.1:${port}/v1/claude/v1/messages`;
      const headers = { 'x-workspace-id': 'ws-bench' };
      await waitFor200(url, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json', ...headers } }, 120_000);
      arms.push({ name: chainStepName(n), url, headers, server: gateway, windows: [] });
    }
    for (const arm of arms) await fire(arm, WARMUP);
    for (let w = 0; w < WINDOWS; w++) {
      for (const arm of w % 2 === 0 ? arms : [...arms].reverse()) {
        const p = await countPerRequest(arm.server, (n) => fire(arm, n), N);
        arm.windows.push(p);
        process.stderr.write(`${arm.name} window ${w + 1}: ${kilo(p.total)}, ${kilo(withoutCompiler(p))} without the compiler\n`);
      }
    }
    report(arms);
  } finally {
    for (const s of started) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
