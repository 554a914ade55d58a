/**
 * Request-body edges. An HTTP/1.1 body slower than request_timeout_ms gets a 408 in the
 * route's format, audited as the gateway's timeout: a request still reading its body has
 * sent nothing yet, though it counted as a response under way and the connection used to
 * be cut with no answer, audited as a client abort.
 */
import net from 'node:net';
import path from 'node:path';
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
