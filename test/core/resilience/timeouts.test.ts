/**
 * Each timeout phase against a local upstream that misbehaves in exactly that phase:
 * a 504 in the caller's dialect before the head, an error event the client can read
 * mid-stream, and a distinct error code in the outcome and a count in the metrics.
 */
import t from 'tap';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { anthropicEntry, errorEvents, send, startMocks, startResilient } from '../../helpers/resilience.js';
import { metric } from '../../helpers/live.js';
import { startBlackhole } from '../../mocks/blackhole.js';

const timeouts = (body: string) => `    resilience:\n      timeouts: { ${body} }`;

t.test('connect: a port that never accepts is a 504 GW_ERR_UPSTREAM_CONNECT_TIMEOUT within connect_ms', async (t) => {
  const hole = await startBlackhole();
  t.teardown(() => hole.close());
  const gw = await startResilient(t, [anthropicEntry('anthropic', hole.url, timeouts('connect_ms: 300'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(a.status, 504);
  t.match(JSON.parse(a.text), { type: 'error', error: { type: 'api_error', message: /connecting/ } }, 'Anthropic error shape');
  t.ok(a.ms >= 250 && a.ms < 5000, `gave up after ~300 ms (${Math.round(a.ms)} ms)`);
  const { outcome } = await outcomeFor(a.id);
  t.match(outcome, { status: 504, error: { kind: 'upstream_timeout', code: 'GW_ERR_UPSTREAM_CONNECT_TIMEOUT' }, target: 'anthropic', attempts: 1 });
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  t.equal(metric(text, 'gateway_upstream_timeouts_total{target="anthropic",phase="connect"}'), 1);
});

t.test('headers: an upstream that never answers is a 504 GW_ERR_UPSTREAM_HEADERS_TIMEOUT, and the upstream request is cancelled', async (t) => {
  const [mock] = await startMocks(t, 'stalling');
  mock.fallback = { kind: 'stall' };
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, timeouts('headers_ms: 300'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(a.status, 504);
  t.match(JSON.parse(a.text), { error: { type: 'api_error', message: /response head \(300 ms\)/ } });
  t.ok(a.ms >= 250 && a.ms < 5000, `~300 ms (${Math.round(a.ms)} ms)`);
  t.match((await outcomeFor(a.id)).outcome, { status: 504, error: { kind: 'upstream_timeout', code: 'GW_ERR_UPSTREAM_HEADERS_TIMEOUT' } });
  const deadline = Date.now() + 3000;
  while (mock.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(mock.active, 0, 'the gateway closed its upstream request');
});

t.test('headers: a route may give a slow endpoint longer than its provider does', async (t) => {
  const [mock] = await startMocks(t, 'slow');
  mock.fallback = { kind: 'ok', delayMs: 500 };
  const gw = await startResilient(
    t,
    [anthropicEntry('anthropic', mock.url, timeouts('headers_ms: 200'))],
    `routes:
  - name: patient
    match: { prefix: /patient }
    provider: anthropic
    resilience: { timeouts: { headers_ms: 3000 } }`,
  );
  t.equal((await send(`${gw.url}/v1/claude/v1/messages`)).status, 504, 'the provider default: 200 ms');
  const a = await send(`${gw.url}/patient/v1/messages`);
  t.equal(a.status, 200, 'the route override: 3 s');
  t.match(JSON.parse(a.text), { type: 'message' });
});

t.test('idle: a stream that goes silent mid-way ends with an error event and an outcome of its own', async (t) => {
  const [mock] = await startMocks(t, 'stalling');
  mock.fallback = { kind: 'stall-body', after: 3 };
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, timeouts('idle_ms: 300'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`, { stream: true });
  t.equal(a.status, 200, 'the head was already sent');
  t.match(a.text, /event: content_block_delta/, 'the client got the events before the gap');
  const events = errorEvents(a.text);
  t.equal(events.length, 1, 'one error event');
  t.match(events[0], { type: 'error', error: { type: 'api_error', message: /silent.*300 ms/ } });
  t.ok(a.ms >= 250 && a.ms < 5000, `~300 ms (${Math.round(a.ms)} ms)`);
  const { outcome } = await outcomeFor(a.id);
  t.match(outcome, { status: 200, error: { kind: 'upstream_timeout', code: 'GW_ERR_UPSTREAM_IDLE_TIMEOUT' }, stream: true });
  t.equal(outcome.usage.inputTokens, 10, 'tokens seen before the gap are counted');
  t.equal(mock.hits, 1, 'never retried once bytes reached the client');
});

t.test('idle: a steady stream slower in total than idle_ms is not cut', async (t) => {
  const [mock] = await startMocks(t, 'steady');
  mock.fallback = { kind: 'ok', eventDelayMs: 60 };
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, timeouts('idle_ms: 400'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`, { stream: true });
  t.equal(a.status, 200);
  t.match(a.text, /event: message_stop/);
  t.equal(errorEvents(a.text).length, 0);
  t.ok(a.ms > 400, `the stream took longer than idle_ms in total (${Math.round(a.ms)} ms)`);
});

t.test('total: a stream that keeps trickling past total_ms is cut with GW_ERR_UPSTREAM_TOTAL_TIMEOUT', async (t) => {
  const [mock] = await startMocks(t, 'trickling');
  mock.fallback = { kind: 'ok', eventDelayMs: 150 };
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, timeouts('idle_ms: 1000, total_ms: 500'))]);
  const a = await send(`${gw.url}/v1/claude/v1/messages`, { stream: true });
  t.equal(a.status, 200);
  t.notMatch(a.text, /message_stop/, 'cut before the end');
  t.match(errorEvents(a.text)[0], { error: { message: /total time allowed \(500 ms\)/ } });
  t.ok(a.ms >= 450 && a.ms < 5000, `~500 ms (${Math.round(a.ms)} ms)`);
  t.match((await outcomeFor(a.id)).outcome, { error: { kind: 'upstream_timeout', code: 'GW_ERR_UPSTREAM_TOTAL_TIMEOUT' } });
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  t.equal(metric(text, 'gateway_upstream_timeouts_total{target="anthropic",phase="total"}'), 1);
});

t.test('total: before the head, a 504 on the unified endpoint in OpenAI shape', async (t) => {
  const [mock] = await startMocks(t, 'stalling');
  mock.fallback = { kind: 'stall' };
  const gw = await startResilient(t, [anthropicEntry('anthropic', mock.url, timeouts('total_ms: 300'))]);
  const a = await send(`${gw.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] });
  t.equal(a.status, 504);
  t.match(JSON.parse(a.text), { error: { message: /total time allowed/, code: 'GW_ERR_UPSTREAM_TOTAL_TIMEOUT' } });
  t.match((await outcomeFor(a.id)).outcome, { status: 504, error: { code: 'GW_ERR_UPSTREAM_TOTAL_TIMEOUT' } });
});
