import t from 'tap';
import net from 'node:net';
import { startGateway } from '../helpers/gateway.js';
import { call, messages } from '../helpers/http.js';

function raw(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname, () => sock.end(text));
    let out = '';
    sock.on('data', (d) => (out += d.toString()));
    sock.on('end', () => resolve(out));
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
  });
}

t.test('x-request-id is accepted when sane, generated otherwise, and returned', async (t) => {
  const gw = await startGateway(t, 'providers:\n  echo: {}\n');
  const kept = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('x'), headers: { 'x-request-id': 'trace-42.abc' } });
  t.equal(kept.headers['x-request-id'], 'trace-42.abc');
  const bad = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('x'), headers: { 'x-request-id': 'has spaces and "quotes"' } });
  t.match(String(bad.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  const none = await call(`${gw.url}/health`);
  t.match(String(none.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'on operational endpoints too');
});

t.test('oversized headers are refused (431) and the gateway keeps serving', async (t) => {
  const gw = await startGateway(t, 'server:\n  max_header_bytes: 2048\nproviders:\n  echo: {}\n');
  const reply = await raw(gw.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
  t.match(reply, /^HTTP\/1\.1 431/);
  t.equal((await call(`${gw.url}/health`)).status, 200);
});

t.test('conflicting content-length and transfer-encoding is refused', async (t) => {
  const gw = await startGateway(t, 'providers:\n  echo: {}\n');
  const reply = await raw(gw.url, 'POST /v1/echo/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  t.match(reply, /^HTTP\/1\.1 400/);
});

t.test('a body over the limit without content-length (chunked) is a 413 in the route dialect', async (t) => {
  const gw = await startGateway(t, 'server:\n  max_body_bytes: 100\nproviders:\n  echo: {}\n');
  const body = messages('y'.repeat(500));
  const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  const reply = await raw(gw.url, `POST /v1/echo/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`);
  t.match(reply, /^HTTP\/1\.1 413/);
  t.match(reply, /"type":"request_too_large"/);
});

t.test('idle connections are closed after idle_timeout_ms', async (t) => {
  const gw = await startGateway(t, 'server:\n  idle_timeout_ms: 300\n  keep_alive_timeout_ms: 200\nproviders:\n  echo: {}\n');
  const { port } = new URL(gw.url);
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const sock = net.connect(Number(port), '127.0.0.1');
    sock.on('close', () => resolve());
    sock.resume();
  });
  const elapsed = Date.now() - started;
  t.ok(elapsed < 5000, `silent connection closed after ${elapsed} ms`);
});
