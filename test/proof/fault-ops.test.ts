/**
 * Operational faults under load: Redis killed (fail-open and fail-closed), an invalid
 * config pushed, and reloads while many streams run. Each: what clients get, one audit
 * line per request, the metric, and the next request served. Redis coming back (NOSCRIPT,
 * limits enforced again) is proven in test/filters/rate-limit/redis.test.ts; shutdown
 * during streams in test/core/shutdown.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { IDENTITY_PLUGIN } from '../helpers/rate-limit.js';
import { startRedis } from '../helpers/redis.js';
import { messages, streamedText } from '../helpers/live.js';
import { sample } from './support/harness.js';

function config(o: { store?: unknown; delayMs?: number; models?: string[] } = {}): string {
  return JSON.stringify({
    server: { host: '127.0.0.1', drain_timeout_ms: 2000 },
    providers: { echo: { models: o.models ?? ['echo-1'], stream_delay_ms: o.delayMs ?? 0 } },
    filters: [
      { name: 'identity', plugin: IDENTITY_PLUGIN },
      { name: 'rate-limit', config: {} },
      { name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } },
    ],
    rate_limits: { default: { requests_per_minute: 1_000_000 } },
    ...(o.store ? { store: o.store } : {}),
  }, null, 2);
}

const audit = (gw: TestGateway): Array<Record<string, unknown>> => {
  try {
    // Request lines only: the hash chain's anchor line opens every file.
    return readFileSync(path.join(gw.dir, 'audit.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.event !== 'audit_anchor');
  } catch {
    return [];
  }
};

async function waitAudit(gw: TestGateway, n: number): Promise<number> {
  for (let i = 0; i < 250 && audit(gw).length < n; i++) await sleep(20);
  return audit(gw).length;
}

async function post(url: string, id: string, stream = false, text = 'hi'): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'load', 'x-request-id': id }, body: messages(text, stream) });
  return { status: res.status, text: await res.text() };
}

/** Requests from `workers` loops until `stop()` resolves; statuses by request id. */
function load(url: string, prefix: string, workers = 4): { stop(): Promise<Map<string, { status: number; text: string }>> } {
  const results = new Map<string, { status: number; text: string }>();
  let running = true;
  let n = 0;
  const loops = Array.from({ length: workers }, async () => {
    for (let i = 0; running && i < 2000; i++) {
      const id = `${prefix}-${++n}`;
      results.set(id, await post(url, id, n % 2 === 0));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return results;
    },
  };
}

async function redisDown(t: Test, mode: 'open' | 'closed'): Promise<void> {
  const redis = await startRedis(t);
  const gw = await startGateway(t, config({ store: { type: 'redis', redis: { url: redis.url, fail_mode: mode, timeout_ms: 300 } } }));
  const traffic = load(gw.url, `redis-${mode}`);
  await sleep(300);
  await redis.kill();
  const killedAt = Date.now();
  await sleep(800);
  const results = await traffic.stop();
  const statuses = [...results.values()].map((r) => r.status);
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  t.ok(statuses.filter((s) => s === 200).length > 0, `${statuses.length} requests under load`);
  if (mode === 'open') {
    t.ok(statuses.every((s) => s === 200), 'fail-open: every request served while Redis is down');
    t.ok(sample(text, 'gateway_rate_limit_store_unavailable_total', { fail_mode: 'open' }) > 0, 'counted as decided by the fail mode');
  } else {
    t.ok(statuses.every((s) => s === 200 || s === 503), 'fail-closed: served or 503, nothing else');
    const refused = [...results.entries()].filter(([, r]) => r.status === 503);
    t.ok(refused.length > 0, `${refused.length} refused while Redis was down`);
    t.match(JSON.parse(refused[0][1].text), { type: 'error', error: { type: 'api_error' } }, 'the refusal is an Anthropic error');
    t.ok(sample(text, 'gateway_rate_limit_rejections_total', { scope: 'store', reason: 'store_unavailable' }) >= refused.length, 'every refusal counted');
  }
  t.equal(await waitAudit(gw, results.size), results.size, 'one audit line per request');
  const byId = new Map(audit(gw).map((l) => [l.request_id as string, l]));
  const wrong = [...results].filter(([id, r]) => {
    const line = byId.get(id);
    return line?.status !== r.status || (r.status === 503 && (line.error !== 'GW_ERR_RATE_LIMIT_UNAVAILABLE' || line.error_kind !== 'unavailable'));
  });
  t.same(wrong.map(([id]) => id), [], 'each audit line has the status the client got; refusals name GW_ERR_RATE_LIMIT_UNAVAILABLE');
  const next = await post(gw.url, `redis-${mode}-next`);
  t.equal(next.status, mode === 'open' ? 200 : 503, mode === 'open' ? 'the next request is served' : 'the next request is refused until Redis returns');
  if (mode === 'closed') {
    await redis.restart();
    let status = 0;
    for (let i = 0; i < 200 && status !== 200; i++) {
      status = (await post(gw.url, `redis-closed-back-${i}`)).status;
      if (status !== 200) await sleep(100);
    }
    t.equal(status, 200, `served again ${Date.now() - killedAt} ms after the kill, once Redis is back`);
  }
}

t.test('Redis killed under load, fail-open', (t) => redisDown(t, 'open'));
t.test('Redis killed under load, fail-closed', (t) => redisDown(t, 'closed'));

t.test('an invalid config pushed under load changes nothing', async (t) => {
  const gw = await startGateway(t, config());
  const good = gw.gateway.current.hash;
  const traffic = load(gw.url, 'badcfg');
  await sleep(200);
  writeFileSync(gw.configPath, config().replace('"stream_delay_ms": 0', '"stream_delay_ms": "slow"'));
  const result = await gw.gateway.reload();
  await sleep(300);
  const results = await traffic.stop();
  t.equal(result.ok, false, 'the reload is refused');
  t.equal(gw.gateway.current.hash, good, 'the old pipeline still serves');
  t.ok([...results.values()].every((r) => r.status === 200), `all ${results.size} requests served`);
  t.ok(sample(await (await fetch(`${gw.url}/metrics`)).text(), 'gateway_config_loads_total', { result: 'failure' }) >= 1, 'the failure is counted');
  t.ok(gw.logs.some((l) => l.msg === 'config reload failed; still serving the previous config'), 'and logged');
  t.equal(await waitAudit(gw, results.size), results.size, 'one audit line per request');
  t.equal((await post(gw.url, 'badcfg-next')).status, 200, 'the next request is served');
});

t.test('reloads during heavy streaming: every stream finishes intact on its own pipeline', async (t) => {
  const gw = await startGateway(t, config({ delayMs: 15 }));
  const words = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
  const N = 40;
  const streams = Array.from({ length: N }, (_, i) => post(gw.url, `heavy-${i}`, true, words));
  const before = sample(await (await fetch(`${gw.url}/metrics`)).text(), 'gateway_config_loads_total', { result: 'success' });
  for (let i = 0; i < 3; i++) {
    await sleep(100);
    writeFileSync(gw.configPath, config({ delayMs: 15, models: ['echo-1', `echo-gen-${i}`] }));
    t.match(await gw.gateway.reload(), { ok: true, changed: true }, `reload ${i + 1} applied while streams run`);
  }
  const done = await Promise.all(streams);
  t.ok(done.every((r) => r.status === 200 && streamedText(r.text) === words && r.text.includes('event: message_stop')), `all ${N} streams complete and intact`);
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  t.equal(sample(text, 'gateway_config_loads_total', { result: 'success' }) - before, 3, 'three reloads counted');
  t.equal(await waitAudit(gw, N), N, 'one audit line per stream, across pipelines');
  t.ok(audit(gw).every((l) => l.status === 200 && l.error === null), 'every line a clean 200');
  t.equal((await post(gw.url, 'heavy-next', true)).status, 200, 'the next request is served');
});
