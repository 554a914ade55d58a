import t from 'tap';
import { SseDecoder } from '../../core/stream/sse.js';
import { startGateway } from '../helpers/gateway.js';
import { call, messages } from '../helpers/http.js';

const yaml = 'providers:\n  echo:\n    models: [echo-1, echo-2]\n';

function events(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  const out: Array<{ event: string; data: Record<string, unknown> }> = [];
  const d = new SseDecoder((event, data) => out.push({ event, data: JSON.parse(data) as Record<string, unknown> }));
  d.push(Buffer.from(text));
  d.end();
  return out;
}

t.test('non-stream: echoes the last user message as an Anthropic message with usage', async (t) => {
  const gw = await startGateway(t, yaml);
  const body = JSON.stringify({
    model: 'echo-2',
    max_tokens: 100,
    system: 'be brief',
    messages: [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'an answer' },
      { role: 'user', content: [{ type: 'text', text: 'the last ' }, { type: 'text', text: 'question' }] },
    ],
  });
  const res = await call(`${gw.url}/v1/echo/v1/messages`, { body });
  t.equal(res.status, 200);
  const msg = res.json<{ type: string; role: string; model: string; content: Array<{ type: string; text: string }>; stop_reason: string; usage: Record<string, number> }>();
  t.equal(msg.type, 'message');
  t.equal(msg.role, 'assistant');
  t.equal(msg.model, 'echo-2');
  t.same(msg.content, [{ type: 'text', text: 'the last question' }]);
  t.equal(msg.stop_reason, 'end_turn');
  t.equal(msg.usage.output_tokens, Math.ceil('the last question'.length / 4));
  t.ok(msg.usage.input_tokens >= Math.ceil('be brieffirst questionan answerthe last question'.length / 4));
});

t.test('Continue-style bare path works too', async (t) => {
  const gw = await startGateway(t, yaml);
  const res = await call(`${gw.url}/v1/echo/messages`, { body: messages('bare path') });
  t.equal(res.status, 200);
  t.equal(res.json<{ content: Array<{ text: string }> }>().content[0].text, 'bare path');
});

t.test('stream: a complete Anthropic SSE sequence whose deltas rebuild the text', async (t) => {
  const gw = await startGateway(t, yaml);
  const text = 'one two three four five six seven';
  const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages(text, { stream: true }) });
  t.equal(res.status, 200);
  t.match(String(res.headers['content-type']), /^text\/event-stream/);
  const evs = events(res.text);
  t.same(
    [...new Set(evs.map((e) => e.event))],
    ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
  );
  const rebuilt = evs.filter((e) => e.event === 'content_block_delta').map((e) => (e.data.delta as { text: string }).text).join('');
  t.equal(rebuilt, text);
  const delta = evs.find((e) => e.event === 'message_delta')!;
  t.equal((delta.data.usage as { output_tokens: number }).output_tokens, Math.ceil(text.length / 4));
  const metrics = await call(`${gw.url}/metrics`);
  t.match(metrics.text, new RegExp(`gateway_tokens_total\\{provider="echo",model="echo-1",direction="output"\\} ${Math.ceil(text.length / 4)}`), 'usage read from the stream');
});

const LONG = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen';

t.test('non-stream: the echo stops at max_tokens and says so, its usage what it produced', async (t) => {
  const gw = await startGateway(t, yaml);
  const cases: Array<[string, number, string, string]> = [
    ['cut after 2 tokens (8 characters)', 2, 'one two ', 'max_tokens'],
    ['a cap of exactly the length is not a cut', Math.ceil(LONG.length / 4), LONG, 'end_turn'],
    ['a cap above the length', 1000, LONG, 'end_turn'],
  ];
  for (const [name, max, text, stop] of cases) {
    const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages(LONG, { max_tokens: max }) });
    t.equal(res.status, 200, name);
    const msg = res.json<{ content: Array<{ text: string }>; stop_reason: string; usage: { output_tokens: number } }>();
    t.equal(msg.content[0].text, text, `${name}: the text`);
    t.equal(msg.stop_reason, stop, `${name}: stop_reason`);
    t.ok(msg.usage.output_tokens <= max, `${name}: output_tokens ${msg.usage.output_tokens} <= max_tokens ${max}`);
    t.equal(msg.usage.output_tokens, Math.ceil(text.length / 4), `${name}: usage counts the text sent`);
  }
  const emoji = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('abc\u{1F600}def', { max_tokens: 1 }) });
  t.equal(emoji.json<{ content: Array<{ text: string }> }>().content[0].text, 'abc', 'a cut never splits a surrogate pair');
});

t.test('stream: the echo stops at max_tokens; message_delta says max_tokens with the usage of the deltas', async (t) => {
  const gw = await startGateway(t, yaml);
  const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages(LONG, { max_tokens: 2, stream: true }) });
  t.equal(res.status, 200);
  const evs = events(res.text);
  const rebuilt = evs.filter((e) => e.event === 'content_block_delta').map((e) => (e.data.delta as { text: string }).text).join('');
  t.equal(rebuilt, 'one two ');
  const delta = evs.find((e) => e.event === 'message_delta')!;
  t.same(delta.data.delta, { stop_reason: 'max_tokens', stop_sequence: null });
  t.equal((delta.data.usage as { output_tokens: number }).output_tokens, 2);
  t.equal(evs.at(-1)!.event, 'message_stop', 'the stream still ends normally');
  const metrics = await call(`${gw.url}/metrics`);
  t.match(metrics.text, /^gateway_tokens_total\{provider="echo",model="echo-1",direction="output"\} 2$/m, 'the gateway counts what was sent');
});

t.test('max_tokens is required, a whole number >= 1, as the Messages API has it', async (t) => {
  const gw = await startGateway(t, yaml);
  const bodies: Array<[string, string]> = [
    ['missing', JSON.stringify({ model: 'echo-1', messages: [{ role: 'user', content: 'hi' }] })],
    ['missing, streamed', JSON.stringify({ model: 'echo-1', stream: true, messages: [{ role: 'user', content: 'hi' }] })],
    ['zero', messages('hi', { max_tokens: 0 })],
    ['negative', messages('hi', { max_tokens: -1 })],
    ['fractional', messages('hi', { max_tokens: 1.5 })],
    ['a string', messages('hi', { max_tokens: '64' })],
    ['null', messages('hi', { max_tokens: null })],
  ];
  for (const [name, body] of bodies) {
    const res = await call(`${gw.url}/v1/echo/v1/messages`, { body });
    t.equal(res.status, 400, `${name}: 400`);
    const err = res.json<{ type: string; error: { type: string; message: string } }>();
    t.equal(err.error.type, 'invalid_request_error', `${name}: in the Messages API's shape`);
    t.match(err.error.message, /^max_tokens: /, `${name}: names the field`);
  }
  t.equal((await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('hi', { max_tokens: 1 }) })).status, 200, 'a cap of 1 is served');
});

t.test('stream events are paced by stream_delay_ms and arrive one by one', async (t) => {
  const gw = await startGateway(t, 'providers:\n  echo:\n    stream_delay_ms: 150\n    words_per_delta: 1\n');
  const { request } = await import('undici');
  const res = await request(`${gw.url}/v1/echo/v1/messages`, { method: 'POST', body: messages('a b c', { stream: true }), headers: { 'content-type': 'application/json' } });
  const arrivals: number[] = [];
  const start = performance.now();
  for await (const _chunk of res.body) arrivals.push(performance.now() - start);
  t.ok(arrivals.length >= 5, `chunks arrived separately (${arrivals.length})`);
  t.ok(arrivals.at(-1)! - arrivals[0] >= 150 * 4, 'spread over time, not buffered');
});

t.test('model list and bad requests', async (t) => {
  const gw = await startGateway(t, yaml);
  const models = await call(`${gw.url}/v1/echo/v1/models`);
  t.same(models.json<{ data: Array<{ id: string }> }>().data.map((m) => m.id), ['echo-1', 'echo-2']);
  const bad = await call(`${gw.url}/v1/echo/v1/messages`, { body: '{"model": "echo-1", "messages": [' });
  t.equal(bad.status, 400);
  const err = bad.json<{ type: string; error: { type: string; message: string }; request_id: string }>();
  t.equal(err.type, 'error');
  t.equal(err.error.type, 'invalid_request_error');
  t.match(err.error.message, /not valid JSON/);
  t.equal(err.request_id, bad.headers['x-request-id']);
  const empty = await call(`${gw.url}/v1/echo/v1/messages`, { body: '{"model":"echo-1","messages":[]}' });
  t.equal(empty.status, 400);
});

t.test('listed as diagnostic in /v1/providers and /health', async (t) => {
  const gw = await startGateway(t, yaml);
  const list = await call(`${gw.url}/v1/providers`);
  const echo = list.json<{ providers: Array<Record<string, unknown>> }>().providers[0];
  t.equal(echo.name, 'echo');
  t.equal(echo.diagnostic, true);
  t.equal(echo.configured, true);
  t.same(echo.models, ['echo-1', 'echo-2']);
  const health = await call(`${gw.url}/health`);
  const h = health.json<{ status: string; version: string; config: { hash: string; loaded_at: string }; providers: Record<string, { status: string; diagnostic: boolean }> }>();
  t.equal(h.status, 'ok');
  t.match(h.config.hash, /^[0-9a-f]{64}$/);
  t.ok(Date.parse(h.config.loaded_at) > 0);
  t.same(h.providers.echo.diagnostic, true);
  const ph = await call(`${gw.url}/v1/echo/health`);
  t.equal(ph.status, 200);
  t.equal(ph.json<{ status: string }>().status, 'ok');
});
