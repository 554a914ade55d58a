/**
 * An admitted upload is not held to `server.request_timeout_ms` (a 500 MB file on a slow
 * link takes minutes) but to `server.upload_idle_timeout_ms`: a client that sends nothing
 * for that long while the gateway waits for its bytes gets a 408 in the route's format and
 * an audit line. Every other request, and the requests after an upload on the same
 * connection, keep the whole-request limit that stops slowloris clients.
 */
import http2 from 'node:http2';
import net from 'node:net';
import t from 'tap';
import { outcomeFor } from '../helpers/outcome-recorder.js';
import { startUploadGateway } from '../helpers/upload.js';

const KIB = 1024;
const REQUEST_TIMEOUT_MS = 1000;
const UPLOAD_IDLE_MS = 1500;

/** `headersTimeoutMs`: the provider's `headers_timeout_ms`, which the pool counts from the upload's last byte. */
async function setup(t: { teardown(fn: () => unknown): void }, headersTimeoutMs?: number) {
  const { sink, gw } = await startUploadGateway(t, {
    server: `  request_timeout_ms: ${REQUEST_TIMEOUT_MS}\n  upload_idle_timeout_ms: ${UPLOAD_IDLE_MS}`,
    anthropicYaml: headersTimeoutMs === undefined ? '' : `    headers_timeout_ms: ${headersTimeoutMs}`,
  });
  return { sink, gw, port: Number(new URL(gw.url).port) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function head(path: string, length: number): string {
  return `POST ${path} HTTP/1.1\r\nhost: gw\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/octet-stream\r\ncontent-length: ${length}\r\n\r\n`;
}

/** A raw HTTP/1.1 connection: what it was sent, and every byte it got back. */
function connect(port: number): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (text += c));
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
    socket.once('error', reject);
  });
}

/** The responses in `text`, in order: status, headers, body (content-length framed). */
function responses(text: string): Array<{ status: number; headers: Record<string, string>; body: string }> {
  const out = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const lines = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    rest = rest.slice(end + 4);
    let body = '';
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const eol = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, eol), 16);
        body += rest.slice(eol + 2, eol + 2 + size);
        rest = rest.slice(eol + 2 + size + 2);
        if (size === 0 || eol < 0) break;
      }
    } else {
      const length = Number(headers['content-length'] ?? 0);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    }
    out.push({ status: Number(lines[0].split(' ')[1]), headers, body });
  }
  return out;
}

t.test('HTTP/1.1: an upload slower than request_timeout_ms and the provider\'s headers_timeout_ms is served; the next request on its connection and any other request are still held to it', async (t) => {
  // headers_timeout_ms 1 s too: the pool starts it when the body has been sent, not at the request's start.
  const { sink, port } = await setup(t, 1000);
  const { socket, received, closed } = await connect(port);
  const piece = Buffer.alloc(64 * KIB, 0x62);
  const pieces = 8;
  socket.write(head('/v1/claude/v1/files', piece.length * pieces));
  // 8 pieces 400 ms apart: ~3 s, three times request_timeout_ms, never idle for UPLOAD_IDLE_MS.
  for (let i = 0; i < pieces; i++) {
    await sleep(400);
    socket.write(piece);
  }
  const started = performance.now();
  while (responses(received()).length === 0 && performance.now() - started < 5000) await sleep(20);
  const [answer] = responses(received());
  t.equal(answer?.status, 200, 'served though it took three times request_timeout_ms and headers_timeout_ms');
  t.equal(sink.last!.bytes, piece.length * pieces, 'every byte went upstream');
  t.ok(sink.last!.complete);

  // The same keep-alive connection: a slow request after the upload is cut as any other.
  socket.write(head('/v1/claude/v1/messages', 100) + '{"model"');
  const sent = performance.now();
  await closed;
  const waited = performance.now() - sent;
  const second = responses(received())[1];
  t.equal(second?.status, 408, 'the next request on the connection gets the 408');
  t.ok(waited < REQUEST_TIMEOUT_MS + 2000, `within request_timeout_ms and a check interval (${waited.toFixed(0)} ms)`);

  // A fresh connection whose generation body trickles: the slowloris cut holds.
  const slow = await connect(port);
  slow.socket.write(head('/v1/claude/v1/messages', 100) + '{"model"');
  await slow.closed;
  const cut = responses(slow.received())[0];
  t.equal(cut?.status, 408, 'a non-upload body is still held to request_timeout_ms');
  t.match(JSON.parse(cut!.body), { type: 'error', error: { message: /not received within/ } }, "in Anthropic's shape");
});

t.test('HTTP/1.1: an upload stalled for upload_idle_timeout_ms gets a 408 in its route format, audited, and the upstream is cut', async (t) => {
  const { sink, port } = await setup(t);
  const { socket, received, closed } = await connect(port);
  socket.write(head('/v1/claude/v1/files', 1024 * KIB));
  socket.write(Buffer.alloc(64 * KIB));
  const started = performance.now();
  await closed;
  const waited = performance.now() - started;
  const [answer] = responses(received());
  t.equal(answer?.status, 408, 'answered 408');
  t.ok(waited >= UPLOAD_IDLE_MS - 50 && waited < UPLOAD_IDLE_MS + 2000, `after upload_idle_timeout_ms (${waited.toFixed(0)} ms)`);
  t.match(JSON.parse(answer!.body), { type: 'error', error: { type: 'api_error', message: 'Upload sent no bytes for 1500 ms' } }, "Anthropic's error shape, saying why");
  t.equal(answer!.headers.connection, 'close', 'the rest of the body is not read');
  const rec = await outcomeFor(answer!.headers['x-request-id']);
  t.equal(rec.outcome.status, 408);
  t.equal(rec.outcome.error?.code, 'GW_ERR_REQUEST_TIMEOUT', 'audited with its code');
  t.equal(rec.outcome.bytesIn, 64 * KIB, 'and the bytes that came');
  await sink.last!.done;
  t.ok(sink.last!.aborted && !sink.last!.complete, 'the upstream request was cut');
});

t.test('an upstream that takes no bytes for longer than upload_idle_timeout_ms is no stalled client', async (t) => {
  const { sink, port } = await setup(t);
  sink.startDelayMs = UPLOAD_IDLE_MS + 1000;
  const { socket, received } = await connect(port);
  const size = 16 * 1024 * KIB; // past what the loopback sockets on either side buffer
  socket.write(head('/v1/claude/v1/files', size));
  socket.write(Buffer.alloc(size));
  const started = performance.now();
  while (responses(received()).length === 0 && performance.now() - started < 10_000) await sleep(20);
  t.equal(responses(received())[0]?.status, 200, 'served: the gateway waited on the upstream, not on the client');
  t.equal(sink.last!.bytes, size);
  socket.destroy();
});

t.test('HTTP/2: a stalled upload gets the 408 and its stream is reset; a slow one is served', async (t) => {
  const { sink, gw } = await setup(t);
  const client = http2.connect(gw.url);
  t.teardown(() => client.close());
  const headers = { ':method': 'POST', ':path': '/v1/claude/v1/files', 'anthropic-version': '2023-06-01', 'content-type': 'application/octet-stream' };

  const slow = client.request(headers, { endStream: false });
  let slowStatus = 0;
  slow.on('response', (h) => (slowStatus = Number(h[':status'])));
  slow.resume();
  for (let i = 0; i < 6; i++) {
    await sleep(400);
    slow.write(Buffer.alloc(64 * KIB));
  }
  slow.end();
  await new Promise((r) => slow.once('close', r));
  t.equal(slowStatus, 200, 'an upload taking twice request_timeout_ms is served over HTTP/2 too');
  t.equal(sink.last!.bytes, 6 * 64 * KIB);

  const stalled = client.request(headers, { endStream: false });
  stalled.write(Buffer.alloc(64 * KIB));
  let status = 0;
  let body = '';
  let id = '';
  stalled.setEncoding('utf8');
  stalled.on('response', (h) => {
    status = Number(h[':status']);
    id = String(h['x-request-id']);
  });
  stalled.on('data', (c: string) => (body += c));
  await new Promise((r) => stalled.once('end', r));
  t.equal(status, 408);
  t.match(JSON.parse(body), { type: 'error', error: { message: 'Upload sent no bytes for 1500 ms' } });
  const rec = await outcomeFor(id);
  t.equal(rec.outcome.error?.code, 'GW_ERR_REQUEST_TIMEOUT');
  await sink.last!.done;
  t.ok(sink.last!.aborted, 'the upstream request was cut');
  const answered = performance.now();
  while (!stalled.closed && performance.now() - answered < 5000) await sleep(10);
  t.equal(stalled.rstCode, http2.constants.NGHTTP2_NO_ERROR, 'then its stream is reset NO_ERROR: the rest is not read');
  stalled.destroy();
});
