import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { makeWorkspaceKey } from '../../../filters/auth/keys.js';
import { startGateway } from '../../helpers/gateway.js';
import { auditLines, config, messages, post, SECRET, waitFor } from '../fixtures.js';

const SEED_FIELDS = ['timestamp', 'event', 'user', 'workspace', 'provider', 'model', 'tokens_in', 'tokens_out', 'latency_ms', 'status'];
const PROVIDER_KEY = 'sk-ant-api03-PROVIDERKEYxxxxxxxxxxxxxxxx';

const chain = (auditExtra = '') => `  - name: auth
    config:
      key_secret: ${SECRET}
  - name: audit
    config:
      stdout: false
      file: audit/audit.log
      flush_interval_ms: 20
${auditExtra}  - name: validator
    config:
      max_body_bytes: 4000
`;

t.test('the line format: seed fields first and exactly, then the gateway fields', async (t) => {
  const gw = await startGateway(t, config(chain()));
  const file = path.join(gw.dir, 'audit/audit.log');
  await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123', 'x-request-id': 'req-1' });
  await fetch(`${gw.url}/health`);
  await fetch(`${gw.url}/v1/usage`, { headers: { 'x-workspace-id': 'ws-abc123' } });
  t.ok(await waitFor(() => auditLines(file).length >= 1));
  await sleep(200);
  const lines = auditLines(file);
  t.equal(lines.length, 1, 'operational endpoints are not audited');
  const line = lines[0];
  t.same(Object.keys(line).slice(0, 10), SEED_FIELDS);
  t.same(Object.keys(line).slice(10, 16), ['request_id', 'route', 'stream', 'error', 'cache_creation_tokens', 'cache_read_tokens']);
  t.match(line, {
    event: 'ai_request', user: 'contractor1', workspace: 'ws-abc123', provider: 'echo', model: 'echo-1',
    tokens_in: Number, tokens_out: Number, latency_ms: Number, status: 200,
    request_id: 'req-1', route: 'echo', stream: false, error: null, project: 'webide', auth: 'header', method: 'POST', path: '/v1/echo/v1/messages',
  });
  t.ok(!Number.isNaN(Date.parse(line.timestamp as string)) && (line.timestamp as string).endsWith('Z'), 'ISO 8601 UTC');
  t.ok((line.tokens_in as number) > 0 && (line.tokens_out as number) > 0);
  t.notOk('prompt' in line, 'no content without log_content');
  t.notMatch(JSON.stringify(line), 'Hello, gateway');
});

t.test('one line per request under concurrent mixed load, aborts and rejects included', async (t) => {
  // A short drain: after client aborts under load, shutdown waits the drain timeout (see report).
  const gw = await startGateway(t, config(chain()) + 'server:\n  max_body_bytes: 20000\n  drain_timeout_ms: 1000\n');
  const file = path.join(gw.dir, 'audit/audit.log');
  const url = `${gw.url}/v1/echo/v1/messages`;
  const key = makeWorkspaceKey(SECRET, 'ws-abc123');
  const N = 200;
  const expected = new Map<string, number>();
  const long = messages({ stream: true, messages: [{ role: 'user', content: 'word '.repeat(300) }] });

  async function one(i: number): Promise<void> {
    const id = `load-${i}`;
    const h = { 'x-request-id': id, 'x-workspace-id': 'ws-abc123' };
    switch (i % 10) {
      case 0: {
        const ac = new AbortController();
        const res = await fetch(url, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: long, signal: ac.signal });
        const reader = res.body!.getReader();
        await reader.read();
        ac.abort();
        await reader.read().catch(() => undefined);
        expected.set(id, 499);
        return;
      }
      case 1: await post(url, h, messages({ stream: true })); expected.set(id, 200); return;
      case 2: await post(url, { 'x-request-id': id, 'x-api-key': PROVIDER_KEY }); expected.set(id, 401); return;
      case 3: await post(url, { ...h, 'x-workspace-id': 'ws-nobody' }); expected.set(id, 403); return;
      case 4: await post(url, h, '{"model":'); expected.set(id, 400); return;
      case 5: await fetch(`${gw.url}/no/such/route?key=${key}`, { headers: h }).then((r) => r.text()); expected.set(id, 404); return;
      case 6: await post(url, h, messages({ messages: [{ role: 'user', content: 'x'.repeat(5000) }] })); expected.set(id, 413); return;
      case 7: await post(url, { 'x-request-id': id, 'x-api-key': key }, messages({ stream: true })); expected.set(id, 200); return;
      case 8: await post(url, h, messages({ messages: [{ role: 'user', content: 'y'.repeat(30000) }] })).catch(() => undefined); expected.set(id, 413); return;
      default: await post(url, { ...h, authorization: `Bearer ${key}` }); expected.set(id, 200);
    }
  }

  // Bounded concurrency: 20 at a time.
  let next = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < N) await one(next++);
  }));
  t.ok(await waitFor(() => auditLines(file).length >= N), 'all lines arrive');
  await sleep(300);
  const lines = auditLines(file);
  t.equal(lines.length, N, 'exactly one line per request');
  const byId = new Map(lines.map((l) => [l.request_id as string, l]));
  t.equal(byId.size, N, 'no request logged twice');
  const wrong = [...expected].filter(([id, status]) => byId.get(id)?.status !== status);
  t.same(wrong.map(([id, s]) => `${id}: want ${s}, got ${String(byId.get(id)?.status)}`), [], 'each request has its status');
  t.equal(lines.filter((l) => l.status === 499).length, 20, 'client aborts are 499');
  t.ok(lines.filter((l) => l.status === 499).every((l) => l.error === 'GW_ERR_CLIENT_ABORT' && l.stream === true));
  t.ok(lines.filter((l) => l.status === 413 && l.replied_by === null).every((l) => l.user === 'contractor1'), 'pre-chain 413s are still attributed');

  const text = readFileSync(file, 'utf8');
  for (const secret of [SECRET, key, PROVIDER_KEY]) t.notMatch(text, secret, 'no secret in the audit log');
  t.notMatch(text, '?key=', 'no query string in the audit log');
  const logs = JSON.stringify(gw.logs);
  for (const secret of [SECRET, key, PROVIDER_KEY]) t.notMatch(logs, secret, 'no secret in the operational log');
});

t.test('log_content: prompt and completion, redacted and clipped', async (t) => {
  const gw = await startGateway(t, config(chain('      log_content: true\n      content_max_chars: 200\n      redact_patterns: ["sk-ant-[A-Za-z0-9_-]+", "hunter[0-9]+"]\n')));
  const file = path.join(gw.dir, 'audit/audit.log');
  const url = `${gw.url}/v1/echo/v1/messages`;
  const h = { 'x-workspace-id': 'ws-abc123' };
  await post(url, h, messages({ system: 'be brief', messages: [{ role: 'user', content: `my key is ${PROVIDER_KEY} and hunter22` }] }));
  await post(url, h, messages({ stream: true, messages: [{ role: 'user', content: 'stream me please' }] }));
  await post(url, h, messages({ messages: [{ role: 'user', content: 'z'.repeat(1000) }] }));
  // Refused by auth, before the audit's onRequest read the prompt: parsed at the line instead.
  await post(url, { 'x-workspace-id': 'ws-nobody' }, messages({ messages: [{ role: 'user', content: 'refused prompt' }] }));
  t.ok(await waitFor(() => auditLines(file).length >= 4));
  const [a, b, c, d] = auditLines(file);
  t.equal(d.status, 403);
  t.match(d.prompt, /refused prompt/);
  t.match(a.prompt, /be brief/);
  t.match(a.prompt, /my key is \[REDACTED\] and \[REDACTED\]/);
  t.match(a.completion, /my key is \[REDACTED\]/);
  t.equal(b.completion, 'stream me please', 'completion text assembled from the SSE stream');
  t.match(c.prompt, /truncated 800 chars/);
  t.notMatch(readFileSync(file, 'utf8'), PROVIDER_KEY);
});

t.test('audit alone: anonymous lines, stdout sink off, invalid pattern refused', async (t) => {
  const gw = await startGateway(t, config(`  - name: audit\n    config:\n      stdout: false\n      file: a.log\n      flush_interval_ms: 20\n`));
  const file = path.join(gw.dir, 'a.log');
  await post(`${gw.url}/v1/echo/v1/messages`);
  t.ok(await waitFor(() => auditLines(file).length === 1));
  t.match(auditLines(file)[0], { user: null, workspace: null, status: 200 });
  await t.rejects(startGateway(t, config(`  - name: audit\n    config:\n      redact_patterns: ["("]\n`)), /redact_patterns/);
});

t.test('the writer is shared across reloads and flushed on close', async (t) => {
  const yaml = config(`  - name: audit\n    config:\n      stdout: false\n      file: r.log\n      flush_interval_ms: 60000\n`);
  const gw = await startGateway(t, yaml);
  const file = path.join(gw.dir, 'r.log');
  const url = `${gw.url}/v1/echo/v1/messages`;
  await post(url);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(gw.configPath, yaml + '# reload\n');
  t.ok((await gw.gateway.reload()).ok);
  await post(url);
  await sleep(100);
  t.equal(auditLines(file).length, 0, 'lines wait for the (long) flush interval');
  await gw.gateway.close();
  t.equal(auditLines(file).length, 2, 'close flushes what both generations queued');
});
