/**
 * `server.workers: 2` with the real CLI: requests spread over both workers, rate limits
 * stay global through Redis, `/metrics` is the cluster's sum, the audit file has one whole
 * line per request from one writer in the primary, a SIGKILLed worker is replaced, and
 * SIGTERM drains both workers before the primary exits 0.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { verifyChain } from '../../filters/audit/verify.js';
import { writeConfig } from '../helpers/gateway.js';
import { messages, waitFor } from '../helpers/live.js';
import { freePort } from '../helpers/ports.js';
import { startRedis } from '../helpers/redis.js';
import { pool, send, startCluster } from '../helpers/cluster.js';

const LIMIT = 30;

function config(port: number, redisUrl: string): string {
  return `server:
  host: 127.0.0.1
  port: ${port}
  workers: 2
  drain_timeout_ms: 5000
providers:
  echo:
    models: [echo-1]
    stream_delay_ms: 25
filters:
  - name: auth
    config: { source: static }
  - name: cost
    config: { ledger: { type: sqlite, dir: ./data, flush_interval_ms: 50 } }
  - name: rate-limit
  - name: audit
    config: { stdout: false, file: ./audit.jsonl, log_content: true, content_max_chars: 8192 }
workspaces:
  ws-limited: { user: limited }
  ws-load: { user: loader }
rate_limits:
  global: { requests_per_minute: 1000000 }
  default: { requests_per_minute: 1000000 }
  users:
    limited: { requests_per_minute: ${LIMIT} }
store: { type: redis, redis: { url: "${redisUrl}", fail_mode: closed, timeout_ms: 2000 } }
`;
}

function sum(metrics: string, name: string, filter = ''): number {
  return metrics
    .split('\n')
    .filter((l) => l.startsWith(name + '{') && l.includes(filter))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** The request lines of an audit file (its hash-chain anchor line is not a request). */
function auditLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(0, -1).filter((l) => !l.includes('"event":"audit_anchor"'));
  } catch {
    return [];
  }
}

const post = (url: string, workspace: string, body: string) => send(url, { method: 'POST', path: '/v1/echo/v1/messages', headers: { 'x-workspace-id': workspace }, body });

t.test('memory store with two workers is refused, naming server.workers and its line', async (t) => {
  const { file } = writeConfig(`server:\n  port: 0\n  workers: 2\nstore: { type: memory }\n`);
  const cli = await startCluster(t, file, {}, 'never printed');
  t.equal(await cli.exited, 1);
  t.match(cli.stderr(), /config\.yaml:3:\d+: server\.workers: 2 workers need the shared store so limits stay global: set store\.type to redis/);
  t.notMatch(cli.stderr(), /starting cluster/, 'no worker was forked');
});

/**
 * The cluster on a port that was free a moment ago, tried again on another if something
 * else (a test running beside this one, or an outbound connection's local port) took it
 * first: a worker's EADDRINUSE stops the whole cluster, by design.
 */
async function startOnFreePort(t: Parameters<typeof startCluster>[0], redisUrl: string) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const { dir, file } = writeConfig(config(port, redisUrl));
    const cli = await startCluster(t, file, { AI_GATEWAY_WORKER_HEADER: '1' });
    if (attempt === 3 || cli.child.exitCode === null || !cli.stderr().includes('EADDRINUSE')) return { cli, dir, port };
  }
}

t.test('two workers behind one port', async (t) => {
  const redis = await startRedis(t);
  const { cli, dir, port } = await startOnFreePort(t, redis.url);
  const audit = path.join(dir, 'audit.jsonl');
  const url = `http://127.0.0.1:${port}`;
  t.equal(cli.workerPids().length, 2, 'the primary forked two workers');
  let sent = 0;

  await t.test('both workers serve, and the rate limit is global across them', async (t) => {
    const replies = await pool(LIMIT, 8, () => post(url, 'ws-limited', messages('hello')));
    sent += LIMIT;
    t.same(replies.map((r) => r.status), Array(LIMIT).fill(200), `the first ${LIMIT} requests pass`);
    const workers = new Set(replies.map((r) => r.headers['x-gateway-worker']));
    t.equal(workers.size, 2, `answered by workers ${[...workers].join(', ')}`);
    const over = await post(url, 'ws-limited', messages('one more'));
    sent++;
    t.equal(over.status, 429, `request ${LIMIT + 1} is refused whichever worker took it`);
  });

  await t.test('/metrics is the sum over the workers, whichever worker answers', async (t) => {
    for (let i = 0; i < 4; i++) {
      const m = await send(url, { path: '/metrics' });
      t.equal(m.status, 200);
      t.equal(sum(m.body, 'gateway_requests_total'), sent, `scrape ${i} (worker ${m.headers['x-gateway-worker']}): requests_total = ${sent}`);
      t.equal(sum(m.body, 'gateway_requests_total', 'status_class="4xx"'), 1);
      t.match(m.body, /^gateway_in_flight_requests 0$/m, 'in-flight is summed');
      t.match(m.body, /^gateway_config_info\{hash="[0-9a-f]{16}"\} 1$/m, 'config info stays 1 per hash');
      t.match(m.body, /^gateway_cluster_workers 2$/m);
    }
  });

  await t.test('audit: one whole line per request under concurrent load, from one writer', async (t) => {
    // Lines above 4 KB: two processes appending would tear them.
    const prompt = 'lorem ipsum '.repeat(500);
    const replies = await pool(300, 24, () => post(url, 'ws-load', messages(prompt)));
    sent += replies.length;
    t.ok(replies.every((r) => r.status === 200), 'all 300 served');
    t.equal(new Set(replies.map((r) => r.headers['x-gateway-worker'])).size, 2, 'by both workers');
    await waitFor(() => auditLines(audit).length >= sent, 10_000, 20);
    await new Promise((r) => setTimeout(r, 300));
    const lines = auditLines(audit);
    t.equal(lines.length, sent, `exactly ${sent} lines`);
    const records = lines.map((l) => JSON.parse(l) as { request_id: string; status: number; prompt?: string });
    t.equal(new Set(records.map((r) => r.request_id)).size, sent, 'one per request');
    t.equal(records.filter((r) => r.status === 429).length, 1);
    t.ok(lines.filter((l) => l.length > 4096).length >= 300, 'the long lines are whole');
    const chain = await verifyChain([audit]);
    t.ok(chain.ok, `the primary's one writer keeps the hash chain whole across workers (${chain.break?.detail ?? "ok"})`);
  });

  await t.test('a worker killed with SIGKILL is replaced and the gateway keeps serving', async (t) => {
    const [victim] = cli.workerPids();
    process.kill(victim, 'SIGKILL');
    await waitFor(() => cli.stderr().includes('worker exited; restarting it'), 5000, 20);
    await waitFor(() => cli.stderr().split('"gateway listening"').length - 1 === 3 && cli.workerPids().length === 2, 15_000, 20);
    t.notOk(cli.workerPids().includes(victim), 'a new process took its place');
    const replies = await pool(20, 4, () => post(url, 'ws-load', messages('after the crash')));
    sent += replies.length;
    t.ok(replies.every((r) => r.status === 200), 'every request served');
    const usage = JSON.parse((await send(url, { path: '/v1/usage', headers: { 'x-workspace-id': 'ws-limited' } })).body) as { cost?: { user: { requests: number } } };
    t.equal(usage.cost?.user.requests, LIMIT + 1, 'a worker reads the ledger the primary writes');
    t.equal(new Set(replies.map((r) => r.headers['x-gateway-worker'])).size, 2, 'by the survivor and the replacement');
    const m = await send(url, { path: '/metrics' });
    t.match(m.body, /^gateway_cluster_worker_restarts_total 1$/m);
  });

  await t.test('SIGTERM: both workers drain, in-flight streams finish, the primary exits 0', async (t) => {
    const words = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
    const stream = new Promise<string>((resolve, reject) => {
      const req = http.request(`${url}/v1/echo/v1/messages`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-load' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.once('data', () => cli.child.kill('SIGTERM'));
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(messages(words, true));
    });
    sent++;
    const body = await stream;
    t.match(body, /message_stop/, 'the stream in flight finished');
    t.equal(await cli.exited, 0, 'the primary exited 0');
    const err = cli.stderr();
    t.equal(err.split('"msg":"drained"').length - 1, 2, 'both workers drained');
    t.match(err, /"cluster stopped".*"code":0/);
    const lines = auditLines(audit);
    t.equal(lines.length, sent, `the audit file holds all ${sent} lines after shutdown`);
    t.ok(lines.every((l) => JSON.parse(l) !== null));
    const db = new Database(path.join(dir, 'data', 'ledger.sqlite'), { readonly: true });
    const row = db.prepare('SELECT SUM(requests) AS requests, SUM(errors) AS errors FROM usage_ledger').get() as { requests: number; errors: number };
    db.close();
    t.same(row, { requests: sent, errors: 1 }, 'the SQLite ledger, written by the primary alone, counts every request');
  });
});
