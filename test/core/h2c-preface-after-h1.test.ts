/**
 * An HTTP/1.1 request followed on its connection by an HTTP/2 preface (one TCP write). The
 * handoff to HTTP/2 took the socket's 'close' listeners with it, the in-flight response's
 * among them: when the client then left, nothing heard it, the upstream stream ran on and
 * the request stayed in flight; at shutdown, closing the upstream pool waited for that
 * stream forever. Such a connection is now cut (a preface is no way to start HTTP/2 there), and a
 * shutdown past its drain timeout no longer waits on upstream calls still open.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/live.js';
import { AnthropicMock } from '../mocks/anthropic-mock.js';

const KEY = 'sk-ant-gateway-preface-test-00000';
const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
const unheeding = JSON.stringify(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plugins/unheeding-upstream.js'));

/** Resolves true when `closing` settles within `ms`, false otherwise. */
function within(closing: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([closing.then(() => true), sleep(ms).then(() => false)]);
}

t.test('a preface behind an in-flight HTTP/1.1 request cuts the connection and ends the request', async (t: Test) => {
  const mock = await AnthropicMock.start({ apiKey: KEY });
  t.teardown(() => mock.close());
  mock.hold = true; // message_start, then silence
  const gw = await startGateway(t, `server:\n  drain_timeout_ms: 1000\nproviders:\n  anthropic:\n    api_key: ${KEY}\n    base_url: ${mock.url}\n`);
  const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const socket = net.connect(Number(new URL(gw.url).port), '127.0.0.1');
  socket.on('error', () => {});
  socket.resume();
  const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`POST /v1/claude/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-api-key: ${KEY}\r\nContent-Length: ${body.length}\r\n\r\n${body}${PREFACE}`);
  t.ok(await within(socketClosed, 1000), 'the client connection was cut');
  t.ok(await waitFor(() => gw.gateway.current.active === 0, 1000, 10).catch(() => false), 'the request is over');
  // The cut mostly comes before the call goes upstream; one that went is cancelled.
  t.ok(await within(Promise.all(mock.requests.map((r) => r.closed)), 1000), 'no upstream stream is left open');
  t.ok(await within(gw.gateway.close(), 3000), 'the gateway closes');
});

t.test('past the drain timeout, an upstream call nothing cancels does not hold the shutdown', async (t: Test) => {
  // Accepts the call and never answers.
  const silent = http.createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const gw = await startGateway(t, `server:\n  drain_timeout_ms: 300\nproviders:\n  echo: {}\nfilters:\n  - name: unheeding\n    plugin: ${unheeding}\n    config: { url: "${url}" }\n`);
  const answer = fetch(`${gw.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(() => undefined);
  await waitFor(() => gw.gateway.current.active === 1, 3000, 10);
  await sleep(100);
  const started = performance.now();
  t.ok(await within(gw.gateway.close(), 3000), `the gateway closed ${Math.round(performance.now() - started)} ms after close(), its drain timeout 300 ms`);
  await answer;
});
