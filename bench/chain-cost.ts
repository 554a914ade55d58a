/**
 * CPU per request of the gateway as filters are added one by one, against the bare Node
 * proxy in the same run: the cost of each filter, measured as process CPU time (less
 * sensitive to a shared machine than throughput). Medians of several trials.
 *
 *   npx tsx bench/chain-cost.ts [--requests 20000] [--trials 3] [--processes 3] [--warmup 60000]
 *
 * `--processes N` starts N processes of every arm and pools their trials: two processes of
 * one build can differ by ~10 % (JIT and heap settle differently), more than one filter's step.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../test/helpers/ports.js';
import { gatewayEntry, listeningPort, median, pinSelf, SERVER_NODE_FLAGS, spawnPinned, waitFor200, type Started } from './lib/proc.js';
import { cpuPerRequest, messagesBody, warmUp } from './lib/requests.js';
import { CHAIN_FILTERS, chainConfig, chainStepName } from './lib/chain-configs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const { values: args } = parseArgs({ options: { requests: { type: 'string', default: '20000' }, trials: { type: 'string', default: '3' }, processes: { type: 'string', default: '1' }, warmup: { type: 'string', default: '60000' } } });
const REQUESTS = Number(args.requests);
/** Requests each process serves before the trials (JIT tier-up: see warmUp). */
const WARMUP = Number(args.warmup);
const TRIALS = Number(args.trials);
const PROCESSES = Number(args.processes);
pinSelf(1);

const BODY = messagesBody(1024);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-chain-'));
  const procs: Started[] = [];
  const mock = spawnPinned(1, ['--import=tsx', path.join(here, 'lib/mock-upstream.ts'), '0']);
  procs.push(mock);
  const mockUrl = `http://127.0.0.1:${await listeningPort(mock)}`;
  const arms: Array<{ name: string; pid: number; url: string; headers: Record<string, string> }> = [];
  for (let copy = 0; copy < PROCESSES; copy++) {
    const bare = spawnPinned(0, [...SERVER_NODE_FLAGS, '--import=tsx', path.join(here, 'lib/bare-proxy.ts'), mockUrl, '0']);
    procs.push(bare);
    arms.push({ name: 'bare proxy', pid: bare.pid, url: `http://127.0.0.1:${await listeningPort(bare)}/v1/messages`, headers: {} });
  }
  for (let copy = 0; copy < PROCESSES; copy++) for (let n = 0; n <= CHAIN_FILTERS.length; n++) {
    const file = path.join(dir, `config-${n}.yaml`);
    writeFileSync(file, chainConfig(n));
    const port = await freePort();
    const gw = spawnPinned(0, [...SERVER_NODE_FLAGS, gatewayEntry(root), '--config', file], { AI_GATEWAY_PORT: String(port), MOCK_UPSTREAM: mockUrl, AUDIT_FILE: path.join(dir, `audit-${n}-${copy}.jsonl`) });
    procs.push(gw);
    const url = `http://127.0.0.1:${port}/v1/claude/v1/messages`;
    const headers = { 'x-workspace-id': 'ws-bench' };
    await waitFor200(url, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json', ...headers } });
    arms.push({ name: chainStepName(n), pid: gw.pid, url, headers });
  }

  for (const arm of arms) await warmUp(arm.url, arm.headers, BODY, WARMUP);
  const samples = new Map<string, number[]>();
  for (let t = 0; t < TRIALS; t++) {
    const order = t % 2 === 0 ? arms : [...arms].reverse();
    for (const arm of order) {
      const us = await cpuPerRequest(arm.pid, arm.url, arm.headers, BODY, REQUESTS);
      (samples.get(arm.name) ?? samples.set(arm.name, []).get(arm.name)!).push(us);
    }
  }
  for (const p of procs) await p.stop();
  rmSync(dir, { recursive: true, force: true });

  const bareUs = median(samples.get('bare proxy')!);
  let prev = NaN;
  process.stdout.write(`| arm | CPU µs/request | × bare | added by this step |\n|---|---|---|---|\n`);
  for (const name of samples.keys()) {
    const us = median(samples.get(name)!);
    const step = Number.isNaN(prev) || name === 'bare proxy' ? '' : `${(us - prev).toFixed(1)} µs`;
    process.stdout.write(`| ${name} | ${us.toFixed(1)} | ${(us / bareUs).toFixed(2)} | ${step} |\n`);
    prev = us;
  }
  process.stdout.write(`\n${WARMUP} requests of warm-up, then ${REQUESTS} requests × ${TRIALS} trials per process, ${PROCESSES} process(es) per arm (medians), 1 KB bodies, 16 connections; server on core 0, load and mock on core 1.\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
