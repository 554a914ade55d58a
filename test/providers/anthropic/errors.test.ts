import t from 'tap';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { messagesBody, startAnthropic } from '../../helpers/anthropic.js';

interface AnthropicErrorBody {
  type: string;
  error: { type: string; message: string };
}

t.test('an unreachable upstream is a 502 api_error in Anthropic shape', async (t) => {
  const { mock, base } = await startAnthropic(t);
  await mock.close(); // its port now refuses connections
  const res = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: messagesBody() });
  t.equal(res.status, 502);
  const body = (await res.json()) as AnthropicErrorBody;
  t.equal(body.type, 'error');
  t.equal(body.error.type, 'api_error');
  t.match(body.error.message, /could not be reached/);
  const { outcome } = await outcomeFor(res.headers.get('x-request-id') ?? '');
  t.equal(outcome.error?.kind, 'upstream_error');
});

t.test('no response head in time is a 504', async (t) => {
  const { mock, base } = await startAnthropic(t, { providerYaml: '    headers_timeout_ms: 300' });
  mock.hold = true;
  const started = performance.now();
  const res = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: messagesBody() });
  t.equal(res.status, 504);
  t.ok(performance.now() - started < 5000, 'answered soon after the timeout');
  const body = (await res.json()) as AnthropicErrorBody;
  t.equal(body.error.type, 'api_error');
  const { outcome } = await outcomeFor(res.headers.get('x-request-id') ?? '');
  t.equal(outcome.error?.kind, 'upstream_timeout');
});

t.test('a stream that goes silent ends with an SSE error event and a timeout outcome', async (t) => {
  const { mock, base } = await startAnthropic(t, { providerYaml: '    body_idle_timeout_ms: 300' });
  mock.hold = true;
  const res = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: messagesBody({ stream: true }) });
  t.equal(res.status, 200, 'the head was already sent');
  const text = await res.text();
  t.match(text, /^event: message_start\n/, 'what arrived before the silence passed through');
  t.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"api_error"/, 'then an Anthropic error event');
  const { outcome } = await outcomeFor(res.headers.get('x-request-id') ?? '');
  t.equal(outcome.error?.kind, 'upstream_timeout');
  t.equal(outcome.usage.inputTokens, 1234, 'usage seen before the failure is kept');
});

t.test('unconfigured: listed, unhealthy, and a 503 in Anthropic shape without calling upstream', async (t) => {
  const { mock, gw, base } = await startAnthropic(t, { apiKey: '' });
  const list = (await (await fetch(`${gw.url}/v1/providers`)).json()) as { providers: Array<{ name: string; configured: boolean; models: string[] }> };
  const entry = list.providers.find((p) => p.name === 'anthropic');
  t.equal(entry?.configured, false, 'listed as unconfigured');
  t.ok(entry?.models.includes('claude-3-sonnet-20240229') && entry.models.includes('claude-sonnet-5-5'), 'seed and current models listed');
  const health = await fetch(`${base}/health`);
  t.equal(health.status, 503);
  const res = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: messagesBody() });
  t.equal(res.status, 503);
  const body = (await res.json()) as AnthropicErrorBody;
  t.equal(body.type, 'error');
  t.match(body.error.message, /not configured/);
  t.equal(mock.requests.length, 0, 'nothing forwarded');
});

t.test('configured: health is ok without any upstream call', async (t) => {
  const { mock, base } = await startAnthropic(t);
  const res = await fetch(`${base}/health`);
  t.equal(res.status, 200);
  t.match(await res.json(), { provider: 'anthropic', status: 'ok' });
  t.equal(mock.requests.length, 0);
});
