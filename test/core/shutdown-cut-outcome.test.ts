/**
 * Streams the gateway itself cuts when `drain_timeout_ms` runs out are accounted as its
 * own shutdown (`GW_ERR_UNAVAILABLE`, error_kind `unavailable`), the same over HTTP/1.1
 * and HTTP/2: never as the upstream's failure. Before, the upstream pool was destroyed
 * before the client connections' close was heard, so HTTP/1.1 streams were audited as
 * `GW_ERR_UPSTREAM_PROTOCOL` / `upstream_error` and counted in
 * `gateway_upstream_errors_total` (an alert on a provider at every slow deploy), while
 * HTTP/2 ones said `GW_ERR_CLIENT_ABORT`.
 */
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../helpers/outcome-recorder.js';
import { AnthropicMock } from '../mocks/anthropic-mock.js';
import { auditLines } from '../filters/fixtures.js';

const KEY = 'sk-ant-gateway-cut-outcome-00000';
const BODY = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Tell me a long story' }] });

t.test('streams cut at the drain timeout are the gateway shutting down, not upstream errors', async (t) => {
  const mock = await AnthropicMock.start({ apiKey: KEY });
  t.teardown(() => mock.close());
  mock.hold = true; // message_start, then silence: the streams outlive the drain
  const gw = await startGateway(t, JSON.stringify({
    server: { drain_timeout_ms: 300 },
    providers: { anthropic: { api_key: KEY, base_url: mock.url } },
    filters: [
      { name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } },
      { name: 'recorder', plugin: OUTCOME_RECORDER_PATH },
    ],
  }));
  const u = new URL(`${gw.url}/v1/claude/v1/messages`);
  const h1 = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'x-request-id': 'cut-h1' } }, resolve);
    req.on('error', reject);
    req.end(BODY);
  });
  h1.on('error', () => {});
  h1.resume();
  const session = http2.connect(gw.url);
  session.on('error', () => {});
  const h2 = session.request({ ':method': 'POST', ':path': '/v1/claude/v1/messages', 'content-type': 'application/json', 'x-request-id': 'cut-h2' });
  h2.on('error', () => {});
  h2.end(BODY);
  await new Promise((r) => h2.once('response', r));
  h2.resume();
  const deadline = Date.now() + 5000;
  while (mock.requests.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const metricsBefore = await (await fetch(`${gw.url}/metrics`)).text();
  t.notMatch(metricsBefore, /gateway_upstream_errors_total\{/, 'no upstream error before the shutdown');

  await gw.gateway.close();

  for (const id of ['cut-h1', 'cut-h2']) {
    const { outcome } = await outcomeFor(id);
    t.equal(outcome.status, 200, `${id}: the status the client was sent`);
    t.match(outcome.error, { kind: 'unavailable', code: 'GW_ERR_UNAVAILABLE' }, `${id}: cut by the gateway's shutdown`);
    t.match(auditLines(path.join(gw.dir, 'audit.log')).filter((l) => l.request_id === id), [{ status: 200, error: 'GW_ERR_UNAVAILABLE', error_kind: 'unavailable' }], `${id}: one audit line`);
  }
  const upstreamErrors = (await gw.gateway.metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('gateway_upstream_errors_total{'));
  t.same(upstreamErrors, [], 'no upstream error counted');
});
