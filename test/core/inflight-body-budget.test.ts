/**
 * `server.max_inflight_body_bytes`: request-body bytes held across all requests at once.
 * A body that would pass it is a 503 (Anthropic's 529) with `retry-after` in its route's dialect, audited as
 * `GW_ERR_OVERLOADED`, and never reaches the upstream; the bytes a request reserved come
 * back however it ends (answered, refused, failed upstream, streamed, abandoned by its client),
 * which `gateway_request_body_bytes_in_flight` shows; refusals are counted in
 * `gateway_overload_refusals_total{reason="body_bytes"}`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import t, { type Test } from 'tap';
import { ConfigError, formatIssue } from '../../core/config/issues.js';
import { parseConfig } from '../../core/config/load.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { AnthropicMock } from '../mocks/anthropic-mock.js';
import { OpenAIMock } from '../mocks/openai-mock.js';
import { auditLines, waitFor } from '../filters/fixtures.js';

const KEY = 'sk-ant-gateway-body-budget-0000';
const OPENAI_KEY = 'sk-openai-body-budget-000000000';
const MAX_BODY = 1000;
const BUDGET = 1500;

async function setup(t: Test) {
  const anthropic = await AnthropicMock.start({ apiKey: KEY });
  const openai = await OpenAIMock.start({ apiKey: OPENAI_KEY });
  t.teardown(() => Promise.all([anthropic.close(), openai.close()]));
  const gw = await startGateway(t, JSON.stringify({
    server: { max_body_bytes: MAX_BODY, max_inflight_body_bytes: BUDGET },
    providers: { anthropic: { api_key: KEY, base_url: anthropic.url }, openai: { api_key: OPENAI_KEY, base_url: openai.url } },
    filters: [{ name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } }],
  }));
  return { anthropic, openai, gw, audit: () => auditLines(path.join(gw.dir, 'audit.log')) };
}

/** An Anthropic Messages body of exactly `bytes` bytes. */
function claudeBody(bytes: number, extra: Record<string, unknown> = {}): string {
  const base = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, ...extra, messages: [{ role: 'user', content: '' }] });
  return base.replace('"content":""', `"content":"${'x'.repeat(bytes - base.length)}"`);
}

/** An OpenAI Chat Completions body of exactly `bytes` bytes. */
function openaiBody(bytes: number): string {
  const base = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: '' }] });
  return base.replace('"content":""', `"content":"${'x'.repeat(bytes - base.length)}"`);
}

async function held(gw: TestGateway): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('gateway_request_body_bytes_in_flight '));
  return Number(line?.split(' ')[1]);
}

/** `gateway_overload_refusals_total{reason="body_bytes"}`: NaN when the series is missing. */
async function refusals(gw: TestGateway): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('gateway_overload_refusals_total{reason="body_bytes"} '));
  return Number(line?.split(' ')[1]);
}

async function heldBecomes(gw: TestGateway, bytes: number): Promise<boolean> {
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    if ((await held(gw)) === bytes) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** A client that declares a `length`-byte body to /v1/claude and sends ten bytes of it. */
function slowUpload(gw: TestGateway, id: string, length: number): net.Socket {
  const u = new URL(gw.url);
  const s = net.connect(Number(u.port), u.hostname);
  s.on('error', () => {});
  s.write(`POST /v1/claude/v1/messages HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\nx-request-id: ${id}\r\ncontent-length: ${length}\r\n\r\n{"model":"`);
  return s;
}

function post(gw: TestGateway, route: string, id: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id, ...headers }, body });
}

t.test('a body past the budget is a 503 with retry-after in its dialect, audited, and kept from the upstream', async (t) => {
  const s = await setup(t);
  t.equal(await refusals(s.gw), 0, 'the refusal counter is there at 0 before any refusal');
  const upload = slowUpload(s.gw, 'holder', MAX_BODY);
  t.ok(await heldBecomes(s.gw, MAX_BODY), 'the declared length is held from the head on');

  const claude = await post(s.gw, '/v1/claude/v1/messages', 'over-claude', claudeBody(600));
  t.equal(claude.status, 529, "Anthropic's overload status");
  t.equal(claude.headers.get('retry-after'), '1');
  t.match(await claude.json(), { type: 'error', error: { type: 'overloaded_error', message: /request bodies/ }, request_id: 'over-claude' });

  const openai = await post(s.gw, '/v1/openai/v1/chat/completions', 'over-openai', openaiBody(600));
  t.equal(openai.status, 503);
  t.equal(openai.headers.get('retry-after'), '1');
  t.match(await openai.json(), { error: { message: /request bodies/, type: String } });

  const fits = await post(s.gw, '/v1/claude/v1/messages', 'fits', claudeBody(400));
  t.equal(fits.status, 200, 'a body that fits beside the held one is served');
  await fits.text();
  t.equal(await refusals(s.gw), 2, 'each refusal counted in gateway_overload_refusals_total{reason="body_bytes"}');

  t.ok(await waitFor(() => ['over-claude', 'over-openai', 'fits'].every((id) => s.audit().some((l) => l.request_id === id))));
  for (const [id, status] of [['over-claude', 529], ['over-openai', 503]] as const) {
    t.match(s.audit().find((l) => l.request_id === id), { status, error: 'GW_ERR_OVERLOADED', error_kind: 'unavailable' }, `${id} audited`);
  }
  t.equal(s.anthropic.requests.length + s.openai.requests.length, 1, 'only the one that fitted went upstream');

  upload.destroy();
  t.ok(await heldBecomes(s.gw, 0), 'a client that left mid-body gives its bytes back');
  t.ok(await waitFor(() => s.audit().some((l) => l.request_id === 'holder')));
  t.match(s.audit().find((l) => l.request_id === 'holder'), { status: 499, error: 'GW_ERR_CLIENT_ABORT' });
  const after = await post(s.gw, '/v1/claude/v1/messages', 'after', claudeBody(MAX_BODY));
  t.equal(after.status, 200, 'a whole largest body is served again');
  await after.text();
});

t.test('bodies without a declared length are metered chunk by chunk (HTTP/1.1 chunked, HTTP/2)', async (t) => {
  const s = await setup(t);
  const upload = slowUpload(s.gw, 'holder', MAX_BODY);
  t.teardown(() => upload.destroy());
  t.ok(await heldBecomes(s.gw, MAX_BODY));

  const body = claudeBody(600);
  // fetch sends a stream body chunked, with no length.
  const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(body)), c.close()) });
  const streamed = await fetch(`${s.gw.url}/v1/claude/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
  t.equal(streamed.status, 529, 'HTTP/1.1 chunked');
  await streamed.text();

  const session = http2.connect(s.gw.url);
  t.teardown(() => session.close());
  const h2Status = await new Promise<number>((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': '/v1/claude/v1/messages', 'content-type': 'application/json' });
    req.on('response', (h) => resolve(Number(h[':status'])));
    req.on('error', reject);
    req.end(body);
    req.resume();
  });
  t.equal(h2Status, 529, 'HTTP/2 without content-length');

  upload.destroy();
  t.ok(await heldBecomes(s.gw, 0), 'nothing left held by the refused ones');
});

t.test('the bytes come back after answers, upstream errors, refusals and once a stream begins', async (t) => {
  const s = await setup(t);
  const ok = await post(s.gw, '/v1/claude/v1/messages', 'ok', claudeBody(800));
  t.equal(ok.status, 200);
  await ok.text();
  t.ok(await heldBecomes(s.gw, 0), 'after an answer');

  s.anthropic.nextError = { status: 500, type: 'api_error', message: 'boom' };
  const failed = await post(s.gw, '/v1/claude/v1/messages', 'failed', claudeBody(800));
  t.equal(failed.status, 500);
  await failed.text();
  t.ok(await heldBecomes(s.gw, 0), 'after an upstream error');

  const tooLarge = await fetch(`${s.gw.url}/v1/claude/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(claudeBody(MAX_BODY + 200))), c.close()) }),
    duplex: 'half',
  } as RequestInit);
  t.equal(tooLarge.status, 413);
  await tooLarge.text();
  t.ok(await heldBecomes(s.gw, 0), 'after a chunked body refused part-read');

  s.anthropic.hold = true;
  const stream = await post(s.gw, '/v1/claude/v1/messages', 'stream', claudeBody(800, { stream: true }));
  t.equal(stream.status, 200);
  t.ok(await heldBecomes(s.gw, 0), 'a stream under way holds no body bytes');
  await stream.body?.cancel();
});

t.test('the limit defaults from the heap, never below one largest body, and cannot be set below it', async (t) => {
  const heapQuarter = Math.min(1024 ** 3, Math.floor(getHeapStatistics().heap_size_limit / 4));
  t.equal(parseConfig('providers:\n  echo: {}\n', 'c.yaml', {}).config.server.max_inflight_body_bytes, Math.max(heapQuarter, 32 * 1024 * 1024));
  const huge = 4 * 1024 ** 3;
  t.equal(parseConfig(`server:\n  max_body_bytes: ${huge}\n`, 'c.yaml', {}).config.server.max_inflight_body_bytes, huge, 'a larger max_body_bytes raises it');
  let issue = '';
  try {
    parseConfig('server:\n  max_body_bytes: 1000\n  max_inflight_body_bytes: 999\n', 'c.yaml', {});
  } catch (err) {
    if (err instanceof ConfigError) issue = formatIssue(err.issues[0]);
  }
  t.match(issue, /server\.max_inflight_body_bytes.*at least server\.max_body_bytes \(1000\)/, 'refused, naming the key');
});

t.test('a reload changes the limit; the bytes already held stay counted', async (t) => {
  const s = await setup(t);
  const upload = slowUpload(s.gw, 'holder', MAX_BODY);
  t.teardown(() => upload.destroy());
  t.ok(await heldBecomes(s.gw, MAX_BODY));
  const before = await post(s.gw, '/v1/claude/v1/messages', 'before', claudeBody(600));
  t.equal(before.status, 529);
  await before.text();
  const raised = JSON.parse(readFileSync(s.gw.configPath, 'utf8')) as { server: Record<string, number> };
  raised.server.max_inflight_body_bytes = 2000;
  writeFileSync(s.gw.configPath, JSON.stringify(raised));
  t.match(await s.gw.gateway.reload(), { ok: true, changed: true });
  const after = await post(s.gw, '/v1/claude/v1/messages', 'after', claudeBody(600));
  t.equal(after.status, 200, 'fits under the new limit beside the held body');
  await after.text();
  t.equal(await held(s.gw), MAX_BODY, 'the held body is still counted');
});
