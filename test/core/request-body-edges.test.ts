/**
 * Request-body edges. An HTTP/1.1 body slower than request_timeout_ms gets a 408 in the
 * route's format, audited as the gateway's timeout: a request still reading its body has
 * sent nothing yet, though it counted as a response under way and the connection used to
 * be cut with no answer, audited as a client abort. And `Expect: 100-continue` (HTTP/1.1
 * and HTTP/2) gets `100 Continue` only when the body will be read: Node sent it by itself,
 * inviting a body over max_body_bytes that the 413 then refused.
 */
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/live.js';
import { auditLines } from '../filters/fixtures.js';

const CONFIG = `server:
  request_timeout_ms: 1000
  max_body_bytes: 1000
  drain_timeout_ms: 1000
providers:
  echo: {}
filters:
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 10 }
`;
const BODY = JSON.stringify({ model: 'echo-1', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });

/** A raw connection: writes `text`, then calls `more()` and again as replies come; resolves everything read once closed (or after `waitMs`). */
function raw(url: string, text: string, waitMs: number, more: (reply: string, socket: net.Socket) => void = () => {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1', () => {
      socket.write(text);
      more('', socket);
    });
    let reply = '';
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      more(reply, socket);
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(reply));
    setTimeout(() => socket.destroy(), waitMs);
  });
}

const head = (length: number, extra = '') => `POST /v1/echo/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: ${length}-edge\r\n${extra}Content-Length: ${length}\r\n\r\n`;

t.test('a body slower than request_timeout_ms gets a 408 in the route format, audited as a timeout', async (t) => {
  const gw = await startGateway(t, CONFIG);
  const started = performance.now();
  let trickle: NodeJS.Timeout | undefined;
  const reply = await raw(gw.url, head(100) + '{"model":', 4000, (_, socket) => {
    trickle ??= setInterval(() => socket.writable && socket.write(' '), 200);
  });
  clearInterval(trickle);
  t.ok(performance.now() - started < 3000, 'the connection was closed after the answer');
  t.match(reply, /^HTTP\/1\.1 408 /, 'answered 408');
  t.match(reply, /\r\nconnection: close\r\n/i, 'closing the connection');
  t.match(reply, /"type":"error"/, "in the route's format");
  const audit = path.join(gw.dir, 'audit.log');
  await waitFor(() => auditLines(audit).some((l) => l.request_id === '100-edge'), 2000, 10).catch(() => {});
  t.match(auditLines(audit).find((l) => l.request_id === '100-edge'), { status: 408, error: 'GW_ERR_REQUEST_TIMEOUT' }, 'audited as the gateway timing out the request');
});

t.test('a chunked body that turns malformed mid-way gets a 400 in the route format, audited as invalid', async (t) => {
  const gw = await startGateway(t, CONFIG);
  const chunkedHead = head(0).replace('x-request-id: 0-edge', 'x-request-id: bad-chunk').replace('Content-Length: 0', 'Transfer-Encoding: chunked');
  let sent = false;
  const reply = await raw(gw.url, chunkedHead + '9\r\n{"model":\r\n', 3000, (_, socket) => {
    if (sent) return;
    sent = true;
    // Once the body's read is under way: a chunk size that is not hex.
    setTimeout(() => socket.writable && socket.write('zz\r\n"echo-1"}\r\n0\r\n\r\n'), 200);
  });
  t.match(reply, /^HTTP\/1\.1 400 /, `answered 400: ${JSON.stringify(reply.split('\r\n')[0])}`);
  t.match(reply, /\r\nconnection: close\r\n/i, 'closing the connection');
  t.match(reply, /"type":"error"/, "in the route's format");
  t.match(reply, /Malformed request body/, 'saying what was wrong');
  const audit = path.join(gw.dir, 'audit.log');
  await waitFor(() => auditLines(audit).some((l) => l.request_id === 'bad-chunk'), 2000, 10).catch(() => {});
  t.match(auditLines(audit).find((l) => l.request_id === 'bad-chunk'), { status: 400, error: 'GW_ERR_REQUEST_INVALID' }, 'audited as an invalid request, not a client abort');
});

t.test('Expect: 100-continue with a body over max_body_bytes is refused without 100 Continue', async (t) => {
  const gw = await startGateway(t, CONFIG);
  const reply = await raw(gw.url, head(200_000, 'Expect: 100-continue\r\n'), 1500);
  t.match(reply, /^HTTP\/1\.1 413 /, `first status line: ${JSON.stringify(reply.split('\r\n')[0])}`);
  t.notMatch(reply, /100 Continue/, 'no invitation to send the body');
});

t.test('Expect: 100-continue with a body within the limit gets 100 Continue, then its answer', async (t) => {
  const gw = await startGateway(t, CONFIG);
  let sent = false;
  const reply = await raw(gw.url, head(BODY.length, 'Expect: 100-continue\r\n'), 3000, (text, socket) => {
    if (sent || !text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) return;
    sent = true;
    socket.write(BODY);
    setTimeout(() => socket.end(), 200);
  });
  t.match(reply, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, '100 Continue, then 200');
});

t.test('HTTP/2: Expect: 100-continue over max_body_bytes is refused without a 100', async (t) => {
  const gw = await startGateway(t, CONFIG);
  const session = http2.connect(gw.url);
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  const stream = session.request({ ':method': 'POST', ':path': '/v1/echo/v1/messages', 'content-type': 'application/json', 'content-length': '200000', expect: '100-continue' });
  stream.on('error', () => {});
  let continued = false;
  stream.on('continue', () => (continued = true));
  const status = await Promise.race([new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status'])))), sleep(2000).then(() => 0)]);
  t.equal(status, 413);
  t.notOk(continued, 'no 100 came first');
});

t.test('HTTP/2: Expect: 100-continue within the limit gets a 100, then its answer', async (t) => {
  const gw = await startGateway(t, CONFIG);
  const session = http2.connect(gw.url);
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  const stream = session.request({ ':method': 'POST', ':path': '/v1/echo/v1/messages', 'content-type': 'application/json', 'content-length': String(BODY.length), expect: '100-continue' });
  stream.on('error', () => {});
  const continued = await Promise.race([new Promise<boolean>((resolve) => stream.once('continue', () => resolve(true))), sleep(2000).then(() => false)]);
  t.ok(continued, 'a 100 came');
  stream.end(BODY);
  const status = await Promise.race([new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status'])))), sleep(2000).then(() => 0)]);
  stream.resume();
  t.equal(status, 200);
});
