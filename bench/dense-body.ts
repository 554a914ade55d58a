/**
 * How long one large request body holds the gateway's event loop, by its shape: dense
 * containers (`[],[],…`), deep nesting (`[[[…]]]`), many small messages, and a prompt of
 * long strings (the control, which must stay fast), at 4, 8, 16 and 32 MiB.
 *
 * In-process: core's own readings of the body through a request context — `jsonPick` (the
 * provider's inspect), `jsonShape` (readShape) and `json` (exactJson) — ms for each, or
 * the error code it refused with. Through a gateway (the built dist/, echo provider, the
 * default filter chain, a workspace identity): the body's status and time, and the
 * longest `/health` answer while it was judged (polled every 20 ms).
 *
 *   npx tsx bench/dense-body.ts [--sizes 4,8,16,32] [--only gateway|context]
 *
 * What it showed (forty-first session, a shared 2-core host): before the density check
 * (core/json-density.ts) 16 MiB of `[],[],…` through the gateway took 8.4 s and `[[[…]]]`
 * 20.9 s, `/health` waiting as long; after, both a 400 in 60 ms, 32 MiB in ~140, and the
 * densest body admitted (~1M containers) 0.5–1.7 s. bench/HISTORY.md has the tables.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { contextWithBody } from '../test/helpers/context.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { freePort } from '../test/helpers/ports.js';
import { gatewayEntry, spawnPinned, waitFor200 } from './lib/proc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { sizes: { type: 'string', default: '4,8,16,32' }, only: { type: 'string' } } });
const SIZES = args.sizes.split(',').map(Number);
const MiB = 1024 * 1024;

const HEAD = '{"model":"echo-1","max_tokens":1,"messages":[{"role":"user","content":"hi"}],"pad":';

/** The bodies of about `mib` MiB, by name. */
function bodies(mib: number): Array<[name: string, body: Buffer]> {
  const room = mib * MiB - HEAD.length - 2;
  const message = '{"role":"user","content":"hi"},';
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(room / 45)).slice(0, room - 80);
  return [
    ['dense [],[],…', Buffer.from(`${HEAD}[${'[],'.repeat(Math.floor(room / 3) - 1)}[]]}`)],
    ['nested [[[…]]]', Buffer.from(`${HEAD}${'['.repeat(room >> 1)}${']'.repeat(room >> 1)}}`)],
    ['small messages', Buffer.from(`{"model":"echo-1","max_tokens":1,"messages":[${message.repeat(Math.floor(room / message.length))}{"role":"user","content":"hi"}]}`)],
    ['dense at the limit', Buffer.from(`${HEAD}[${'[],"0123456789",'.repeat(Math.min(999_000, Math.floor(room / 16)) - 1)}[]]}`)],
    ['nested at the limit', Buffer.from(`${HEAD}[${`${"[".repeat(990)}${"]".repeat(990)},"${'x'.repeat(14_000 - 4)}",`.repeat(Math.min(1000, Math.floor(room / 16_000)) - 1)}[]]}`)],
    ['long prompt (control)', Buffer.from(JSON.stringify({ model: 'echo-1', max_tokens: 1, messages: [{ role: 'user', content: text }] }))],
  ];
}

/** ms of `f`, or the error code it threw. */
function timedOnce(f: () => unknown): string {
  const start = performance.now();
  try {
    f();
  } catch (err) {
    return `${(performance.now() - start).toFixed(0)} (${(err as { code?: string }).code ?? (err as Error).message.slice(0, 40)})`;
  }
  return (performance.now() - start).toFixed(0);
}

const PICK = { members: { model: { text: true }, max_tokens: {}, stream: {} } } as const;

function inProcess(): void {
  console.log('| body | MiB | jsonPick ms | jsonShape ms | json ms |');
  console.log('|---|---|---|---|---|');
  for (const mib of SIZES) {
    for (const [name, body] of bodies(mib)) {
      const pick = timedOnce(() => contextWithBody(body).jsonPick(PICK));
      const shape = timedOnce(() => contextWithBody(body).jsonShape());
      const exact = timedOnce(() => contextWithBody(body).json());
      console.log(`| ${name} | ${(body.length / MiB).toFixed(1)} | ${pick} | ${shape} | ${exact} |`);
    }
  }
}

const CONFIG = `server: { max_body_bytes: ${40 * MiB} }
providers:
  echo: { models: [echo-1] }
filters:
  - name: auth
  - name: rate-limit
  - name: audit
  - name: validator
    config: { max_tokens: 64000, models: ["*"] }
workspaces:
  ws-abc123: { user: contractor1, project: webide }
rate_limits:
  default: { requests_per_minute: 100000, tokens_per_minute: 1000000000000 }
  global: { requests_per_minute: 100000, tokens_per_minute: 1000000000000 }
`;

async function throughGateway(): Promise<void> {
  const dir = tempDir('dense-body-');
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, CONFIG);
  const port = await freePort();
  const gw = spawnPinned(undefined, ['--no-memory-reducer', gatewayEntry(root), '--config', file], { AI_GATEWAY_PORT: String(port) });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor200(`${base}/health`);
    console.log('\n| body | MiB | status | ms | longest /health ms |');
    console.log('|---|---|---|---|---|');
    for (const mib of SIZES) {
      for (const [name, body] of bodies(mib)) {
        let worst = 0;
        let done = false;
        const polling = (async () => {
          while (!done) {
            const start = performance.now();
            await (await fetch(`${base}/health`)).arrayBuffer();
            worst = Math.max(worst, performance.now() - start);
            await new Promise((r) => setTimeout(r, 20));
          }
        })();
        const start = performance.now();
        const res = await fetch(`${base}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-abc123' }, body });
        await res.arrayBuffer();
        const ms = performance.now() - start;
        done = true;
        await polling;
        console.log(`| ${name} | ${(body.length / MiB).toFixed(1)} | ${res.status} | ${ms.toFixed(0)} | ${worst.toFixed(0)} |`);
      }
    }
  } finally {
    await gw.stop();
  }
}

if (args.only !== 'gateway') inProcess();
if (args.only !== 'context') await throughGateway();
