/**
 * TLS with ALPN: one port negotiates h2 or http/1.1, with a self-signed certificate made
 * by openssl at test time (nothing secret is committed).
 */
import http2 from 'node:http2';
import https from 'node:https';
import tls, { type TLSSocket } from 'node:tls';
import t from 'tap';
import { ConfigError } from '../../core/index.js';
import { selfSignedCertificate } from '../helpers/certificate.js';
import { startGateway } from '../helpers/gateway.js';
import { h2request, messages, streamedText } from '../helpers/live.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('gw-tls-');
const ca = selfSignedCertificate(dir).pem;

// Relative paths: resolved against the config file's directory.
const CONFIG = `server:
  host: 127.0.0.1
  tls:
    cert_file: cert.pem
    key_file: key.pem
providers:
  echo: {}
`;

/**
 * A raw HTTP/1.1-over-TLS connection to the gateway (no agent, which would close or reuse
 * it on its own): `opened` writes to it; resolves with everything the server sent once it
 * closed the connection, and when its first bytes came.
 */
function rawHttp1(url: string, opened: (socket: TLSSocket) => void): Promise<{ reply: string; firstDataAt: number }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: Number(port), ca, ALPNProtocols: ['http/1.1'], servername: 'localhost' }, () => opened(socket));
    let reply = '';
    let firstDataAt = 0;
    socket.on('data', (d: Buffer) => {
      firstDataAt ||= performance.now();
      reply += d.toString();
    });
    socket.on('close', () => resolve({ reply, firstDataAt }));
    socket.on('error', reject);
  });
}

t.test('ALPN negotiates h2 and http/1.1 on the TLS port', async (t) => {
  const g = await startGateway(t, CONFIG, { dir });
  t.match(g.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'the gateway reports an https URL');

  const session = http2.connect(g.url, { ca });
  t.teardown(() => session.close());
  await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
  t.equal(session.alpnProtocol, 'h2', 'an HTTP/2 client gets h2');
  const plain = await h2request(session, { ':method': 'POST', ':path': '/v1/echo/v1/messages', 'content-type': 'application/json' }, messages('over tls'));
  t.equal(plain.headers[':status'], 200);
  t.match(plain.body, /over tls/);
  const streamed = await h2request(session, { ':method': 'POST', ':path': '/v1/echo/v1/messages' }, messages('streamed over tls', true));
  t.equal(streamedText(streamed.body), 'streamed over tls', 'SSE over h2 + TLS');

  const h1 = await new Promise<{ alpn: string | false | null; status: number; version: string; body: string }>((resolve, reject) => {
    const req = https.request(`${g.url}/v1/echo/v1/messages`, { method: 'POST', agent: new https.Agent({ ca, ALPNProtocols: ['http/1.1'] }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ alpn: (res.socket as TLSSocket).alpnProtocol, status: res.statusCode ?? 0, version: res.httpVersion, body }));
    });
    req.on('error', reject);
    req.end(messages('over http/1.1'));
  });
  t.equal(h1.alpn, 'http/1.1', 'an HTTP/1.1 client gets http/1.1');
  t.equal(h1.version, '1.1');
  t.equal(h1.status, 200);
  t.match(h1.body, /over http\/1\.1/);

  const noAlpn = await new Promise<number>((resolve, reject) => {
    https.get(`${g.url}/health`, { ca, agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject);
  });
  t.equal(noAlpn, 200, 'a client offering no ALPN is served HTTP/1.1');
});

t.test('an HTTP/1.1 request over TLS that cannot be parsed gets its answer, as in cleartext', async (t) => {
  const g = await startGateway(t, CONFIG, { dir });
  const { reply } = await rawHttp1(g.url, (socket) => {
    socket.write('POST /v1/echo/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  });
  t.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/, 'ambiguous framing: a 400 and the connection closed, not left hanging');
  const ok = await new Promise<number>((resolve, reject) => {
    https.get(`${g.url}/health`, { ca, agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject);
  });
  t.equal(ok, 200, 'and the gateway keeps serving');
});

t.test('a client trickling its headers over TLS is cut at the headers timeout, not kept by each byte', async (t) => {
  const g = await startGateway(t, CONFIG.replace('  tls:', '  request_timeout_ms: 1000\n  idle_timeout_ms: 30000\n  tls:'), { dir });
  const started = performance.now();
  let drip: NodeJS.Timeout | undefined;
  const { reply } = await rawHttp1(g.url, (socket) => {
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    drip = setInterval(() => socket.write('a'), 200);
  }).finally(() => clearInterval(drip));
  const ms = performance.now() - started;
  t.match(reply, /^HTTP\/1\.1 408 /, 'a 408');
  t.ok(ms < 5000, `closed after ${ms.toFixed(0)} ms (request_timeout_ms 1000), not at the 30 s idle timeout`);
});

t.test('keep_alive_timeout_ms holds for HTTP/1.1 over TLS too', async (t) => {
  const g = await startGateway(t, CONFIG.replace('  tls:', '  keep_alive_timeout_ms: 200\n  idle_timeout_ms: 30000\n  tls:'), { dir });
  // A raw socket: an https.Agent would close it itself, on the server's Keep-Alive hint.
  const { firstDataAt } = await rawHttp1(g.url, (socket) => socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
  const idleMs = performance.now() - firstDataAt;
  // Node allows a second past the keep-alive timeout before it closes the socket.
  t.ok(idleMs < 5000, `the idle keep-alive connection was closed ${idleMs.toFixed(0)} ms after its answer, not at the 30 s idle timeout`);
});

t.test('max_header_bytes holds for HTTP/1.1 over TLS too', async (t) => {
  const g = await startGateway(t, CONFIG.replace('  tls:', '  max_header_bytes: 2048\n  tls:'), { dir });
  const status = (bytes: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const agent = new https.Agent({ ca, ALPNProtocols: ['http/1.1'] });
      https.get(`${g.url}/health`, { agent, headers: { 'x-big': 'a'.repeat(bytes) } }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject);
    });
  t.equal(await status(4096), 431, 'a 4 KB header over a 2 KB limit');
  t.equal(await status(100), 200, 'a small one passes');
});

t.test('a missing certificate file stops the start with a clear error', async (t) => {
  const err = await startGateway(t, CONFIG.replace('cert.pem', 'missing.pem'), { dir }).catch((e: unknown) => e);
  t.type(err, ConfigError);
  const issue = (err as ConfigError).issues[0];
  t.equal(issue.path, 'server.tls.cert_file', 'the issue names the key');
  t.equal(issue.line, 4, 'and its line');
  t.match(issue.message, /missing\.pem: ENOENT/);
});
