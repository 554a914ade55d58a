/**
 * The soak run, shared by test/proof/soak.test.ts (short, in CI) and `npm run soak` (long):
 * a gateway child process (see soak-server.ts) with the shipped filter chain, every filter
 * on, in front of a scripted Anthropic upstream and the echo provider; workers send mixed
 * traffic — Anthropic pass-through, the unified endpoint and echo, JSON and streamed — with
 * client aborts, while the config is rewritten (a reload) every few seconds. It measures
 * the gateway's heap after a forced GC and its open file descriptors before and after,
 * reads every audit line back, and asks what the budgets still hold.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { ScriptedUpstream } from './upstream.js';
import { tempDir } from '../../helpers/temp-dir.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

export interface SoakOptions {
  durationMs: number;
  workers?: number;
  reloadEveryMs?: number;
  /** Share of streamed requests the client abandons after the first chunk. */
  abortShare?: number;
  /** A Redis for the shared store (`redis://…`); the memory store without one. */
  redisUrl?: string;
  progress?: (line: string) => void;
}

export interface SoakResult {
  requests: number;
  aborted: number;
  reloads: number;
  /** Reloads the gateway applied (its own count, the first load excluded). */
  appliedReloads: number;
  /** Loads the gateway refused (a half-written file read mid-rewrite counts here). */
  failedReloads: number;
  auditLines: number;
  /** Request ids without exactly one audit line, or with an unexpected one. */
  auditProblems: string[];
  /** Non-200 answers (other than the aborts the client caused). */
  unexpected: string[];
  /** Warn/error log lines the gateway wrote. */
  gatewayErrors: string[];
  /** Budget estimates still held once traffic stopped, summed over every user's budgets (USD). */
  heldUsd: number;
  heapBefore: number;
  heapAfter: number;
  fdsBefore: number;
  fdsAfter: number;
  byKind: Record<string, number>;
}

/** Workspaces the clients take turns as: per-user and per-project state is kept for each. */
const WORKSPACES = 200;
/** Users the workspaces belong to, ws-0 … ws-49 one each, then again. */
const USERS = 50;
const workspaceOf = (n: number): string => `ws-${n % WORKSPACES}`;
const userOf = (n: number): string => `user-${n % WORKSPACES % USERS}`;
/** Limits no soak comes near: the filters do all their work, and refuse nothing. */
const NEVER = 1_000_000_000;

/**
 * The shipped chain (configs/config.yaml), every filter on, on the memory store: state per
 * user, project, workspace and agent session for {@link WORKSPACES} workspaces of
 * {@link USERS} users in 5 projects, all of it rebuilt by every reload; or on Redis, shared
 * with the next.
 */
function config(upstream: string, generation: number, redisUrl: string | undefined): string {
  const workspaces = Object.fromEntries(Array.from({ length: WORKSPACES }, (_, i) => [workspaceOf(i), { user: userOf(i), project: `project-${i % 5}` }]));
  return JSON.stringify({
    server: { host: '127.0.0.1', drain_timeout_ms: 3000 },
    providers: { anthropic: { api_key: 'sk-ant-soak-0000', base_url: upstream }, echo: { models: ['echo-1', `echo-gen-${generation}`], stream_delay_ms: 2 } },
    filters: [
      { name: 'network', config: { allow: ['127.0.0.0/8', '::1/128'] } },
      { name: 'auth', config: { source: 'static' } },
      { name: 'cost' },
      { name: 'rate-limit' },
      { name: 'budget', config: { default_user: { daily_usd: NEVER, monthly_usd: NEVER }, default_project: { monthly_usd: NEVER }, global: { monthly_usd: NEVER, action: 'alert' } } },
      { name: 'guardrails', config: { max_session_tokens: NEVER, max_tokens_per_minute: NEVER, loop: { repeats: NEVER, window_seconds: 60 } } },
      { name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 20 } },
      { name: 'validator', config: { max_tokens: 64000 } },
    ],
    workspaces,
    // Echo priced too: its streams are the ones a client abort cuts short (499), and an
    // unpriced request holds nothing for the check after the run to miss.
    pricing: { providers: { echo: { models: { 'echo-1': { input: 100, output: 100 } } } } },
    rate_limits: { global: { requests_per_minute: NEVER, tokens_per_minute: NEVER }, default: { requests_per_minute: NEVER, tokens_per_minute: NEVER } },
    store: redisUrl ? { type: 'redis', redis: { url: redisUrl } } : { type: 'memory' },
  }, null, 2);
}

const KINDS = [
  ['/v1/claude/v1/messages', 'claude-sonnet-4-5', false],
  ['/v1/claude/v1/messages', 'claude-sonnet-4-5', true],
  ['/v1/chat/completions', 'claude-sonnet-4-5', false],
  ['/v1/chat/completions', 'claude-sonnet-4-5', true],
  ['/v1/echo/v1/messages', 'echo-1', false],
  ['/v1/echo/v1/messages', 'echo-1', true],
] as const;

async function start(configPath: string): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = fork(path.join(here, 'soak-server.ts'), [configPath], { cwd: root, execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`soak gateway did not start: ${err}`)), 30_000);
    child.once('message', (m: { url: string }) => {
      clearTimeout(timer);
      resolve(m.url);
    });
    child.once('exit', (code) => reject(new Error(`soak gateway exited with ${code}: ${err}`)));
  });
  return { child, url, stderr: () => err };
}

/** The fields of an audit line the soak checks. */
interface AuditLine {
  event: string;
  request_id: string;
  status: number;
  error: string | null;
  workspace?: string;
  user?: string;
  cost_usd?: number;
}

function heap(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m: { memory: NodeJS.MemoryUsage }) => resolve(m.memory.heapUsed));
    child.send({ type: 'measure' });
  });
}

/**
 * What the budgets still hold, asked as each user (`GET /v1/usage`): every request, aborted
 * or not, hands its estimate back when it completes, so this is 0 once traffic stops.
 */
async function heldBudgets(url: string): Promise<number> {
  let held = 0;
  for (let i = 0; i < USERS; i++) {
    const res = await fetch(`${url}/v1/usage`, { headers: { 'x-workspace-id': workspaceOf(i) } });
    const body = (await res.json()) as { budgets: Array<{ reserved_usd: number }> };
    if (!Array.isArray(body.budgets) || body.budgets.length === 0) throw new Error(`no budgets in /v1/usage for ${workspaceOf(i)}: ${JSON.stringify(body)}`);
    for (const b of body.budgets) held += b.reserved_usd;
  }
  return held;
}

const fds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const upstream = await ScriptedUpstream.start();
  const dir = tempDir('gw-soak-');
  const configPath = path.join(dir, 'config.yaml');
  writeFileSync(configPath, config(upstream.url, 0, o.redisUrl));
  const gw = await start(configPath);
  const pid = gw.child.pid!;
  const ids = new Map<string, 'ok' | 'aborted'>();
  const unexpected: string[] = [];
  const byKind: Record<string, number> = {};
  let seq = 0;
  let reloads = 0;

  /** Traffic from `workers` loops until `until`; each phase gets its own client pool, closed after. */
  async function traffic(until: number): Promise<void> {
    const agent = new Agent({ connections: 4, pipelining: 1 });
    await Promise.all(
      Array.from({ length: o.workers ?? 8 }, async () => {
        while (Date.now() < until) {
          const n = ++seq;
          const [p, model, stream] = KINDS[n % KINDS.length];
          const id = `soak-${n}`;
          const abort = stream && (n * 7919) % 100 < (o.abortShare ?? 0.1) * 100;
          const ac = new AbortController();
          byKind[`${p}${stream ? ' stream' : ''}`] = (byKind[`${p}${stream ? ' stream' : ''}`] ?? 0) + 1;
          ids.set(id, abort ? 'aborted' : 'ok');
          try {
            const res = await request(gw.url + p, { dispatcher: agent, method: 'POST', signal: ac.signal, headers: { 'content-type': 'application/json', 'x-request-id': id, 'x-workspace-id': workspaceOf(n) }, body: JSON.stringify({ model, max_tokens: 32, stream, messages: [{ role: 'user', content: `soak ${n} ${'word '.repeat(n % 20)}` }] }) });
            if (abort) {
              for await (const _ of res.body) break; // the first chunk, then go away
              ac.abort();
            } else {
              await res.body.text();
              if (res.statusCode !== 200) unexpected.push(`${id} ${p}: ${res.statusCode}`);
            }
          } catch (err) {
            if (!abort) unexpected.push(`${id} ${p}: ${(err as Error).message}`);
          }
        }
      }),
    );
    await agent.close();
  }

  // Warm-up: code paths compiled, pools and caches filled; then the baseline.
  await traffic(Date.now() + Math.min(5000, o.durationMs / 4));
  await sleep(200);
  const heapBefore = await heap(gw.child);
  const fdsBefore = fds(pid);
  o.progress?.(`baseline: heap ${(heapBefore / 1048576).toFixed(1)} MiB, ${fdsBefore} fds`);

  const end = Date.now() + o.durationMs;
  const reloader = (async () => {
    while (Date.now() + (o.reloadEveryMs ?? 5000) < end) {
      await sleep(o.reloadEveryMs ?? 5000);
      writeFileSync(configPath, config(upstream.url, ++reloads, o.redisUrl));
      o.progress?.(`${Math.round((end - Date.now()) / 1000)} s left, ${seq} requests, reload ${reloads}`);
    }
  })();
  await Promise.all([traffic(end), reloader]);

  await sleep(500); // last streams and audit flushes settle
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  const failedReloads = Number(/gateway_config_loads_total\{result="failure"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  const appliedReloads = Number(/gateway_config_loads_total\{result="success"\} (\d+)/.exec(metrics)?.[1] ?? 0) - 1;
  const heldUsd = await heldBudgets(gw.url);
  const heapAfter = await heap(gw.child);
  const fdsAfter = fds(pid);
  await new Promise<void>((resolve) => {
    gw.child.once('exit', () => resolve());
    gw.child.send({ type: 'close' });
  });
  await upstream.close();

  // Request lines only: the hash chain's anchor line opens every file.
  const lines = readFileSync(path.join(dir, 'audit.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine).filter((r) => r.event !== 'audit_anchor');
  const seen = new Map<string, number>();
  const auditProblems: string[] = [];
  for (const l of lines) {
    seen.set(l.request_id, (seen.get(l.request_id) ?? 0) + 1);
    const want = ids.get(l.request_id);
    // Who auth said it was, and what cost priced: the chain ran for this request.
    const n = Number(l.request_id.slice('soak-'.length));
    if (l.workspace !== workspaceOf(n) || l.user !== userOf(n) || typeof l.cost_usd !== 'number') auditProblems.push(`${l.request_id}: ${l.workspace} ${l.user} cost ${l.cost_usd}`);
    const fine = want === 'ok' ? l.status === 200 && l.error === null : want === 'aborted' && ((l.status === 499 && l.error === 'GW_ERR_CLIENT_ABORT') || (l.status === 200 && l.error === null));
    if (!fine) auditProblems.push(`${l.request_id}: ${l.status} ${l.error}`);
  }
  for (const id of ids.keys()) if (seen.get(id) !== 1) auditProblems.push(`${id}: ${seen.get(id) ?? 0} lines`);
  const gatewayErrors = gw.stderr().split('\n').filter((l) => /"level":"(warn|error)"/.test(l));
  return {
    requests: ids.size,
    aborted: [...ids.values()].filter((v) => v === 'aborted').length,
    reloads,
    appliedReloads,
    failedReloads,
    auditLines: lines.length,
    auditProblems,
    unexpected,
    gatewayErrors,
    heldUsd,
    heapBefore,
    heapAfter,
    fdsBefore,
    fdsAfter,
    byKind,
  };
}
