/**
 * HTTP/2 on the HTTP/1.1 port: prior-knowledge h2c (what the AWS SDK for JavaScript opens
 * to an http:// endpoint) for plain and streamed requests, its preface split across packets
 * or malformed, HTTP/1.1 beside it, header
 * hygiene both ways, error replies and 413 over h2, and the advertised limits.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { h2request, messages, streamedText, waitFor } from '../helpers/live.js';
import { seenHeaders } from '../fixtures/recording-filter.js';

const plugin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'recording-filter.ts');
const CONFIG = `server:
  host: 127.0.0.1
  max_body_bytes: 4096
  http2:
    max_concurrent_streams: 50
    max_header_list_size: 16384
providers:
  echo:
    stream_delay_ms: 5
filters:
  - name: recording
    plugin: ${JSON.stringify(plugin)}
    config: { tag: h2 }
`;
const FORBIDDEN = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection'];

t.test('h2c with prior knowledge and HTTP/1.1 on one port', async (t) => {
  const g = await startGateway(t, CONFIG);
  const session = http2.connect(g.url);
  t.teardown(() => session.close());
  const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
  t.equal(settings.maxConcurrentStreams, 50, 'server.http2.max_concurrent_streams is advertised');
  t.equal(settings.maxHeaderListSize, 16384, 'server.http2.max_header_list_size is advertised');

  const post = (body: string, extra: http2.OutgoingHttpHeaders = {}) =>
    h2request(session, { ':method': 'POST', ':path': '/v1/echo/v1/messages', 'content-type': 'application/json', 'x-request-id': 'h2-test-1', ...extra }, body);

  const plain = await post(messages('hello over h2'));
  t.equal(plain.headers[':status'], 200);
  t.equal((JSON.parse(plain.body) as { content: Array<{ text: string }> }).content[0].text, 'hello over h2');
  t.equal(plain.headers['x-request-id'], 'h2-test-1', 'the request id comes back');
  t.equal(plain.headers['x-filter-tag'], 'h2', 'the filter chain ran');
  for (const h of FORBIDDEN) t.notOk(h in plain.headers, `no ${h} header over h2`);
  const seen = seenHeaders.at(-1)!;
  t.notOk(Object.keys(seen).some((k) => k.startsWith(':')), 'filters and providers never see pseudo-headers');
  t.equal(seen['x-request-id'], 'h2-test-1', 'ordinary headers pass');

  const words = 'one two three four five six seven eight nine ten';
  const streamed = await post(messages(words, true));
  t.equal(streamed.headers[':status'], 200);
  t.match(String(streamed.headers['content-type']), /^text\/event-stream/);
  t.equal(streamedText(streamed.body), words, 'every SSE delta arrived over h2');
  t.match(streamed.body, /event: message_stop/);
  t.ok(streamed.chunkTimes.length > 1, `the stream arrived in ${streamed.chunkTimes.length} chunks, not buffered`);

  const many = await Promise.all(Array.from({ length: 10 }, (_, i) => post(messages(`stream ${i}`, true))));
  t.same(many.map((r) => streamedText(r.body)), Array.from({ length: 10 }, (_, i) => `stream ${i}`), 'concurrent streams on one session stay apart');

  const missing = await h2request(session, { ':method': 'GET', ':path': '/nowhere' });
  t.equal(missing.headers[':status'], 404, 'an error reply over h2');
  const tooBig = await post(messages('x'.repeat(5000)));
  t.equal(tooBig.headers[':status'], 413, 'a 413 over h2 (no connection: close header to trip on)');
  t.notOk('connection' in tooBig.headers);
  const health = await h2request(session, { ':method': 'GET', ':path': '/health' });
  t.equal(health.headers[':status'], 200, 'operational endpoints over h2');

  // HTTP/1.1 on the same port, keep-alive and all.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${g.url}/v1/echo/v1/messages`, { method: 'POST', body: messages(`h1 ${i}`) });
    t.equal(res.status, 200, `HTTP/1.1 request ${i} on the same port`);
  }
  const h1 = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${g.url}/health`, { agent }, resolve).on('error', reject));
  t.equal(h1.httpVersion, '1.1');
  h1.resume();
});

t.test('HTTP/1.1 request split into tiny packets and pipelined', async (t) => {
  const g = await startGateway(t, CONFIG);
  const socket = net.connect(g.gateway.port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  // "PR" could start the h2 preface: the sniffer must wait, then see HTTP/1.1.
  for (const part of ['P', 'R', 'OPFIND ', '/health HTTP/1.1\r\nHost: x\r\n\r\n']) {
    socket.write(part);
    await new Promise((r) => setTimeout(r, 10));
  }
  socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/providers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await closed;
  const text = Buffer.concat(received).toString();
  const statuses = [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]);
  t.same(statuses, ['404', '200', '200'], 'three responses on one connection (PROPFIND has no route)');
  t.match(text, /"object":"list"/, 'the pipelined request was answered');
});

t.test('an HTTP/2 preface split across packets still opens an h2c session', async (t) => {
  const g = await startGateway(t, CONFIG);
  // A relay that hands the gateway the client's first bytes one packet at a time: llhttp
  // reads the preface across them, and what follows it in the last one must reach HTTP/2.
  const relay = net.createServer((client) => {
    const upstream = net.connect(g.gateway.port, '127.0.0.1');
    upstream.setNoDelay(true);
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    let dribbled = 0;
    const queue: Buffer[] = [];
    let pumping: Promise<void> | undefined;
    const pump = async (): Promise<void> => {
      for (let chunk = queue.shift(); chunk; chunk = queue.shift()) {
        while (dribbled < 30 && chunk.length > 0) {
          upstream.write(chunk.subarray(0, 1));
          chunk = chunk.subarray(1);
          dribbled++;
          await new Promise((r) => setTimeout(r, 2));
        }
        if (chunk.length) upstream.write(chunk);
      }
      pumping = undefined;
    };
    client.on('data', (d: Buffer) => {
      queue.push(d);
      pumping ??= pump();
    });
    client.on('end', () => void (pumping ?? Promise.resolve()).then(() => upstream.end()));
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.teardown(() => relay.close());
  const session = http2.connect(`http://127.0.0.1:${(relay.address() as net.AddressInfo).port}`);
  t.teardown(() => session.destroy());
  const plain = await h2request(session, { ':method': 'POST', ':path': '/v1/echo/v1/messages', 'content-type': 'application/json' }, messages('split preface'));
  t.equal(plain.headers[':status'], 200);
  t.equal((JSON.parse(plain.body) as { content: Array<{ text: string }> }).content[0].text, 'split preface');
  const streamed = await h2request(session, { ':method': 'POST', ':path': '/v1/echo/v1/messages', 'content-type': 'application/json' }, messages('a b c', true));
  t.equal(streamedText(streamed.body), 'a b c', 'and streams on the same session');
});

t.test('a preface followed by anything but an HTTP/2 one is a 400; the gateway keeps serving', async (t) => {
  const g = await startGateway(t, CONFIG);
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = net.connect(g.gateway.port, '127.0.0.1', () => sock.write('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'));
    let out = '';
    sock.on('data', (d) => (out += d.toString()));
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
  });
  t.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
  const session = http2.connect(g.url);
  t.teardown(() => session.close());
  t.equal((await h2request(session, { ':method': 'GET', ':path': '/health' })).headers[':status'], 200, 'h2c still served');
  t.equal((await fetch(`${g.url}/health`)).status, 200, 'HTTP/1.1 still served');
});

t.test('a rapid-reset flood ends the offending session, not the gateway', async (t) => {
  const g = await startGateway(t, CONFIG);
  const flood = http2.connect(g.url);
  flood.on('error', () => {});
  const ended = new Promise<void>((resolve) => flood.once('close', () => resolve()));
  await new Promise((resolve) => flood.once('connect', resolve));
  let sent = 0;
  for (; sent < 5000 && !flood.closed && !flood.destroyed; sent++) {
    const stream = flood.request({ ':method': 'POST', ':path': '/v1/echo/v1/messages' });
    stream.on('error', () => {});
    stream.close(http2.constants.NGHTTP2_CANCEL);
  }
  await Promise.race([ended, new Promise((r) => setTimeout(r, 3000))]);
  t.ok(flood.closed || flood.destroyed, `the flooding session was closed (after ${sent} opened-and-reset streams)`);
  await waitFor(() => g.gateway.current.active === 0, 3000);
  t.pass('every cancelled request was released');
  const fresh = http2.connect(g.url);
  t.teardown(() => fresh.close());
  const health = await h2request(fresh, { ':method': 'GET', ':path': '/health' });
  t.equal(health.headers[':status'], 200, 'a fresh session is served');
});
