/**
 * The gateway's own overload (`GW_ERR_OVERLOADED`, `server.max_inflight_body_bytes`) as
 * each provider renders its own: Anthropic's 529 `overloaded_error` (the SDKs raise
 * OverloadedError and retry it with backoff; Claude Code says the API is overloaded),
 * OpenAI's 503, Gemini's 503 `UNAVAILABLE`, Bedrock's 503 `ServiceUnavailableException`;
 * `retry-after` on each, and the audit line has the status the client got.
 */
import net from 'node:net';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import t, { type Test } from 'tap';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { AnthropicMock } from '../mocks/anthropic-mock.js';
import { auditLines, waitFor } from '../filters/fixtures.js';

const KEY = 'sk-ant-gateway-overload-00000000';
const MAX_BODY = 1000;

async function setup(t: Test) {
  const anthropic = await AnthropicMock.start({ apiKey: KEY });
  t.teardown(() => anthropic.close());
  const gw = await startGateway(t, JSON.stringify({
    server: { max_body_bytes: MAX_BODY, max_inflight_body_bytes: 1500 },
    providers: {
      anthropic: { api_key: KEY, base_url: anthropic.url },
      openai: { api_key: 'sk-openai-overload-0000000000', base_url: anthropic.url },
      gemini: { api_key: 'AIza-overload-0000000000000000', base_url: anthropic.url },
      bedrock: { region: 'us-east-1', base_url: anthropic.url, access_key_id: 'AKIAOVERLOAD00000001', secret_access_key: 'overload/secret/000000000000000000000000' },
    },
    filters: [{ name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } }],
  }));
  return { anthropic, gw, audit: () => auditLines(path.join(gw.dir, 'audit.log')) };
}

/** A client that declares the largest body to /v1/claude and sends ten bytes of it: the budget has room for no second one. */
function holdBudget(gw: TestGateway): net.Socket {
  const u = new URL(gw.url);
  const s = net.connect(Number(u.port), u.hostname);
  s.on('error', () => {});
  s.write(`POST /v1/claude/v1/messages HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\nx-request-id: holder\r\ncontent-length: ${MAX_BODY}\r\n\r\n{"model":"`);
  return s;
}

/** Whether `gateway_request_body_bytes_in_flight` comes to `bytes` within 5 s. */
async function heldBecomes(gw: TestGateway, bytes: number): Promise<boolean> {
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    if (text.includes(`\ngateway_request_body_bytes_in_flight ${bytes}\n`)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

const body600 = (prefix: string): string => `${prefix}"${'x'.repeat(600 - prefix.length - 3)}"}`;

const CASES = [
  { dialect: 'anthropic', path: '/v1/claude/v1/messages', status: 529, shape: { type: 'error', error: { type: 'overloaded_error', message: /request bodies/ }, request_id: 'over-anthropic' } },
  { dialect: 'openai', path: '/v1/chat/completions', status: 503, shape: { error: { type: 'server_error', code: 'GW_ERR_OVERLOADED', message: /request bodies/ } } },
  { dialect: 'gemini', path: '/v1/gemini/v1beta/models/gemini-2.5-flash:generateContent', status: 503, shape: { error: { code: 503, status: 'UNAVAILABLE', message: /request bodies/ } } },
  { dialect: 'bedrock', path: '/v1/bedrock/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke', status: 503, shape: { message: /request bodies/ }, errortype: 'ServiceUnavailableException' },
];

t.test('each dialect renders the overload as its provider would, with retry-after, audited as sent', async (t) => {
  const s = await setup(t);
  const holder = holdBudget(s.gw);
  t.teardown(() => holder.destroy());
  t.ok(await heldBecomes(s.gw, MAX_BODY), 'the budget is taken');
  for (const c of CASES) {
    const id = `over-${c.dialect}`;
    const res = await fetch(`${s.gw.url}${c.path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: body600('{"a":') });
    t.equal(res.status, c.status, `${c.dialect}: ${c.status}`);
    t.equal(res.headers.get('retry-after'), '1', `${c.dialect}: retry-after`);
    if (c.errortype) t.equal(res.headers.get('x-amzn-errortype'), c.errortype, `${c.dialect}: x-amzn-errortype`);
    t.match(await res.json(), c.shape, `${c.dialect}: its error shape`);
  }
  t.ok(await waitFor(() => CASES.every((c) => s.audit().some((l) => l.request_id === `over-${c.dialect}`))));
  for (const c of CASES) {
    t.match(s.audit().find((l) => l.request_id === `over-${c.dialect}`), { status: c.status, error: 'GW_ERR_OVERLOADED', error_kind: 'unavailable' }, `${c.dialect}: audited with the status sent`);
  }
});

t.test('the Anthropic SDK raises OverloadedError, and retries it until the pressure is gone', async (t) => {
  const s = await setup(t);
  const holder = holdBudget(s.gw);
  t.teardown(() => holder.destroy());
  t.ok(await heldBecomes(s.gw, MAX_BODY), 'the budget is taken');
  const params = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user' as const, content: 'x'.repeat(600) }] };

  const once = new Anthropic({ baseURL: `${s.gw.url}/v1/claude`, apiKey: 'sk-client-never-upstream-0000', maxRetries: 0 });
  const err = await once.messages.create(params).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof Anthropic.OverloadedError, 'without retries: OverloadedError');
  t.equal((err as InstanceType<typeof Anthropic.OverloadedError>).status, 529);

  // The first refusal lets the held body go: the SDK's retry (after retry-after: 1 s) then fits.
  const statuses: number[] = [];
  const fetchCounting: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    statuses.push(res.status);
    if (statuses.length === 1) holder.destroy();
    return res;
  };
  const client = new Anthropic({ baseURL: `${s.gw.url}/v1/claude`, apiKey: 'sk-client-never-upstream-0000', maxRetries: 2, fetch: fetchCounting });
  const message = await client.messages.create(params);
  t.equal(message.type, 'message', 'served once the pressure is gone');
  t.same(statuses, [529, 200], 'one 529, then the retry was served');
});
