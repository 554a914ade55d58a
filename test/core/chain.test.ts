import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../helpers/gateway.js';
import { call, messages } from '../helpers/http.js';
// The same module instance the gateway imports (same file URL), so we see its calls.
import { calls } from '../fixtures/plugins/recorder.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plugins');
const recorder = path.join(fixtures, 'recorder.js');

interface Call {
  tag: string;
  hook: string;
  id: string;
  status?: number;
  outcome?: { status: number; error?: { kind: string; code: string }; usage: { inputTokens: number; outputTokens: number }; repliedBy?: string; stream: boolean };
}
const log = calls as Call[];

function callsFor(id: string): Call[] {
  return log.filter((c) => c.id === id);
}

const chainYaml = (extra = '') => `
providers:
  echo: {}
filters:
  - name: first
    plugin: ${recorder}
    config: { tag: first }
  - name: second
    plugin: ${recorder}
    config: { tag: second, async: true }
  - name: third
    plugin: ${recorder}
    config: { tag: third }
${extra}`;

t.test('filters run in config order, each hook once; onComplete gets the outcome', async (t) => {
  const gw = await startGateway(t, chainYaml());
  const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('hello chain'), headers: { 'x-request-id': 'req-order-1' } });
  t.equal(res.status, 200);
  t.equal(res.headers['x-request-id'], 'req-order-1', 'request id echoed');
  t.equal(res.headers['x-seen-by-first'], '1');
  t.equal(res.headers['x-seen-by-third'], '1');
  const seq = callsFor('req-order-1').map((c) => `${c.tag}:${c.hook}`);
  t.same(seq, ['first:request', 'second:request', 'third:request', 'first:response', 'second:response', 'third:response', 'first:complete', 'second:complete', 'third:complete']);
  const outcome = callsFor('req-order-1').find((c) => c.hook === 'complete')!.outcome!;
  t.equal(outcome.status, 200);
  t.equal(outcome.error, undefined);
  t.ok(outcome.usage.inputTokens > 0 && outcome.usage.outputTokens > 0, 'usage read from the body');
});

t.test('a reply short-circuits the chain; later filters never see the request but all complete once', async (t) => {
  const gw = await startGateway(t, chainYaml().replace('config: { tag: second, async: true }', 'config: { tag: second, reply_status: 429 }'));
  const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('x'), headers: { 'x-request-id': 'req-short-1' } });
  t.equal(res.status, 429);
  t.equal(res.headers['retry-after'], '7');
  t.same(res.json(), { limited: true });
  t.equal(res.headers['x-seen-by-first'], '1', 'filters before the replying one get onResponse');
  t.equal(res.headers['x-seen-by-second'], undefined, 'the replying filter does not');
  const seq = callsFor('req-short-1').map((c) => `${c.tag}:${c.hook}`);
  t.same(seq, ['first:request', 'second:request', 'first:response', 'first:complete', 'second:complete', 'third:complete']);
  const outcome = callsFor('req-short-1').find((c) => c.hook === 'complete')!.outcome!;
  t.equal(outcome.status, 429);
  t.equal(outcome.repliedBy, 'second');
});

t.test('a filter that throws becomes a 500 in the route dialect, and the request still completes once', async (t) => {
  const gw = await startGateway(t, chainYaml().replace('config: { tag: third }', 'config: { tag: third, throw_on_request: true }'));
  const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('x'), headers: { 'x-request-id': 'req-throw-1' } });
  t.equal(res.status, 500);
  const body = res.json<{ type: string; error: { type: string; message: string } }>();
  t.equal(body.type, 'error', 'Anthropic error shape on the echo route');
  t.equal(body.error.type, 'api_error');
  t.notMatch(body.error.message, /exploded/, 'internal error text is not leaked');
  t.equal(callsFor('req-throw-1').filter((c) => c.hook === 'complete').length, 3);
});

t.test('per-route override: disable a filter and override another one\'s config', async (t) => {
  const gw = await startGateway(
    t,
    chainYaml(`routes:
  - name: quiet-echo
    match: { prefix: /quiet }
    provider: echo
    filters:
      second: false
      third: { tag: third-override }
`),
  );
  const res = await call(`${gw.url}/quiet/v1/messages`, { body: messages('x'), headers: { 'x-request-id': 'req-route-1' } });
  t.equal(res.status, 200);
  const seq = callsFor('req-route-1').filter((c) => c.hook === 'request').map((c) => c.tag);
  t.same(seq, ['first', 'third-override']);
  const normal = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('x'), headers: { 'x-request-id': 'req-route-2' } });
  t.equal(normal.status, 200);
  t.same(callsFor('req-route-2').filter((c) => c.hook === 'request').map((c) => c.tag), ['first', 'second', 'third'], 'other routes keep the full chain');
});

t.test('onComplete exactly once for 404 and 413, before any filter ran', async (t) => {
  const gw = await startGateway(t, chainYaml().replace('providers:', 'server:\n  max_body_bytes: 1024\nproviders:'));
  const notFound = await call(`${gw.url}/v1/nowhere`, { headers: { 'x-request-id': 'req-404' } });
  t.equal(notFound.status, 404);
  t.equal(notFound.json<{ error: { code: string; request_id: string } }>().error.code, 'GW_ERR_ROUTE_NOT_FOUND');
  t.equal(notFound.json<{ error: { request_id: string } }>().error.request_id, 'req-404');
  const c404 = callsFor('req-404');
  t.same(c404.map((c) => `${c.tag}:${c.hook}`), ['first:complete', 'second:complete', 'third:complete']);
  t.equal(c404[0].outcome!.status, 404);
  t.equal(c404[0].outcome!.error!.kind, 'not_found');

  const big = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('x'.repeat(4096)), headers: { 'x-request-id': 'req-413' } });
  t.equal(big.status, 413);
  t.equal(big.json<{ error: { type: string } }>().error.type, 'request_too_large', 'Anthropic dialect on the echo route');
  const c413 = callsFor('req-413');
  t.same(c413.map((c) => `${c.tag}:${c.hook}`), ['first:complete', 'second:complete', 'third:complete']);
  t.equal(c413[0].outcome!.status, 413);

  const after = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('still serving') });
  t.equal(after.status, 200, 'the gateway keeps serving');
});

t.test('onComplete exactly once when the provider refuses the call', async (t) => {
  const gw = await startGateway(t, chainYaml());
  // The echo provider answers only /v1/messages: other paths fail inside the provider.
  const res = await call(`${gw.url}/v1/echo/v1/complete`, { body: '{}', headers: { 'x-request-id': 'req-fail-1' } });
  t.equal(res.status, 404);
  const completes = callsFor('req-fail-1').filter((c) => c.hook === 'complete');
  t.equal(completes.length, 3);
  t.equal(completes[0].outcome!.status, 404);
});

t.test('a client abort mid-stream completes once with 499', async (t) => {
  const gw = await startGateway(t, chainYaml().replace('echo: {}', 'echo: { stream_delay_ms: 200, words_per_delta: 1 }'));
  const http = await import('node:http');
  await new Promise<void>((resolve) => {
    const req = http.request(`${gw.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-abort-1' } }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.end(messages('one two three four five six seven eight', { stream: true }));
  });
  for (let i = 0; i < 50 && callsFor('req-abort-1').filter((c) => c.hook === 'complete').length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  const completes = callsFor('req-abort-1').filter((c) => c.hook === 'complete');
  t.equal(completes.length, 3);
  t.equal(completes[0].outcome!.status, 499);
  t.equal(completes[0].outcome!.error!.kind, 'client_abort');
  t.equal(completes[0].outcome!.stream, true);
});

t.test('retired filters are closed once', async (t) => {
  const gw = await startGateway(t, chainYaml());
  const before = log.filter((c) => c.hook === 'close').length;
  await gw.gateway.close();
  t.equal(log.filter((c) => c.hook === 'close').length - before, 3);
});
