/**
 * A client that goes away mid-stream, over HTTP/1.1 and HTTP/2: the upstream request is
 * cancelled at once (the Anthropic mock sees its connection close), the tokens the stream
 * had reported so far are counted (outcome, token metrics, rate-limit reconcile) and the
 * audit line says 499.
 */
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../helpers/outcome-recorder.js';
import { IDENTITY_PLUGIN, usageOf } from '../helpers/rate-limit.js';
import { AnthropicMock, DEFAULT_USAGE } from '../mocks/anthropic-mock.js';
import { auditLines, waitFor } from '../filters/fixtures.js';

const KEY = 'sk-ant-gateway-abort-test-0000000';
const BODY = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'Tell me a long story' }] });
const TPM = 6000;

async function setup(t: Test) {
  const mock = await AnthropicMock.start({ apiKey: KEY });
  t.teardown(() => mock.close());
  mock.hold = true; // message_start (input and cache tokens, 1 output token), then silence
  const gw = await startGateway(t, JSON.stringify({
    providers: { anthropic: { api_key: KEY, base_url: mock.url } },
    filters: [
      { name: 'identity', plugin: IDENTITY_PLUGIN },
      { name: 'rate-limit', config: { bytes_per_token: 1e9 } },
      { name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } },
      { name: 'recorder', plugin: OUTCOME_RECORDER_PATH },
    ],
    rate_limits: { default: { requests_per_minute: 100, tokens_per_minute: TPM } },
  }));
  return { mock, gw, audit: () => auditLines(path.join(gw.dir, 'audit.log')) };
}

async function checkAftermath(t: Test, s: Awaited<ReturnType<typeof setup>>, id: string, abortedAt: number): Promise<void> {
  const upstream = s.mock.last!;
  await Promise.race([upstream.closed, new Promise((r) => setTimeout(r, 3000))]);
  const lag = (upstream.closedAt ?? Infinity) - abortedAt;
  t.ok(lag < 1000, `the upstream connection closed ${lag.toFixed(1)} ms after the client left`);

  const { outcome } = await outcomeFor(id);
  t.equal(outcome.status, 499);
  t.equal(outcome.error?.kind, 'client_abort');
  t.same(outcome.usage, { inputTokens: DEFAULT_USAGE.input_tokens, outputTokens: 1, cacheCreationTokens: DEFAULT_USAGE.cache_creation_input_tokens, cacheReadTokens: DEFAULT_USAGE.cache_read_input_tokens }, 'the usage message_start reported');

  t.ok(await waitFor(() => s.audit().some((l) => l.request_id === id)));
  t.match(s.audit().find((l) => l.request_id === id), { status: 499, error: 'GW_ERR_CLIENT_ABORT', error_kind: 'client_abort', stream: true, user: 'reader', tokens_in: DEFAULT_USAGE.input_tokens, tokens_out: 1 });

  const metrics = await (await fetch(`${s.gw.url}/metrics`)).text();
  t.match(metrics, new RegExp(`gateway_tokens_total\\{provider="anthropic",model="claude-sonnet-4-5",direction="input"\\} ${DEFAULT_USAGE.input_tokens}`));
  // Reserved 1025 at admission; reconciled to the 1535 seen (input + cache writes + output).
  const seen = DEFAULT_USAGE.input_tokens + DEFAULT_USAGE.cache_creation_input_tokens + 1;
  const tokens = await usageOf(s.gw.url, 'reader', 'user', 'tokens');
  t.ok(tokens.remaining <= TPM - seen + 500 && tokens.remaining >= TPM - seen - 5, `the limit was charged what the stream reported (remaining ${tokens.remaining} of ${TPM})`);
}

t.test('HTTP/1.1: closing the socket mid-stream', async (t) => {
  const s = await setup(t);
  const u = new URL(`${s.gw.url}/v1/claude/v1/messages`);
  const { req, res } = await new Promise<{ req: http.ClientRequest; res: http.IncomingMessage }>((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'x-user': 'reader', 'x-request-id': 'abort-h1' } }, (res) => resolve({ req, res }));
    req.on('error', reject);
    req.end(BODY);
  });
  t.equal(res.statusCode, 200);
  await new Promise((r) => res.once('data', r));
  t.notOk(s.mock.last!.closedAt, 'the upstream stream is open');
  const abortedAt = performance.now();
  req.destroy();
  await checkAftermath(t, s, 'abort-h1', abortedAt);
});

t.test('HTTP/2: resetting the stream mid-stream', async (t) => {
  const s = await setup(t);
  const session = http2.connect(s.gw.url);
  t.teardown(() => session.close());
  const stream = session.request({ ':method': 'POST', ':path': '/v1/claude/v1/messages', 'content-type': 'application/json', 'x-user': 'reader', 'x-request-id': 'abort-h2' });
  stream.end(BODY);
  const status = await new Promise<number>((r) => stream.once('response', (h) => r(Number(h[':status']))));
  t.equal(status, 200);
  await new Promise((r) => stream.once('data', r));
  const abortedAt = performance.now();
  stream.close(http2.constants.NGHTTP2_CANCEL);
  await checkAftermath(t, s, 'abort-h2', abortedAt);
});
