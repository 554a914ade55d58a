/**
 * `server.max_connections`: past that many open client connections — HTTP/1.1 sockets,
 * h2c sessions (handed over from the HTTP/1.1 server), TLS connections — a new one is
 * refused at accept, counted in `gateway_connections_refused_total` and logged at debug at
 * most once a minute; once one closes, a new one is served. The operational listener is
 * not capped, so /metrics stays reachable while the main port is full.
 */
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import { selfSignedCertificate } from '../helpers/certificate.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A raw HTTP/1.1 connection that was served a /health answer and is kept open. */
function servedSocket(url: string): Promise<net.Socket> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nhost: gw\r\n\r\n'));
    s.once('data', (d: Buffer) => (d.toString().startsWith('HTTP/1.1 200') ? resolve(s) : reject(new Error(d.toString()))));
    s.once('close', () => reject(new Error('closed before an answer')));
  });
}

/** Whether a new connection gets a /health answer ('served') or is closed without one ('refused'). */
function tryConnect(url: string): Promise<'served' | 'refused'> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n'));
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('error', () => {});
    s.on('close', () => resolve(got.startsWith('HTTP/1.1 200') ? 'served' : 'refused'));
  });
}

async function refusedCount(gw: TestGateway): Promise<number> {
  const text = await (await fetch(`${gw.gateway.adminUrl}/metrics`)).text();
  return Number(text.split('\n').find((l) => l.startsWith('gateway_connections_refused_total '))?.split(' ')[1]);
}

async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

t.test('cleartext: HTTP/1.1 and h2c connections count; the next is refused until one closes', async (t) => {
  const gw = await startGateway(t, 'server:\n  max_connections: 2\n  admin: { port: 0, endpoints: [metrics] }\nproviders:\n  echo: {}\n');
  const h1 = await servedSocket(gw.url);
  t.teardown(() => h1.destroy());
  const h2c = http2.connect(gw.url);
  t.teardown(() => h2c.destroy());
  const h2Status = await new Promise((resolve, reject) => {
    const req = h2c.request({ ':path': '/v1/providers' });
    req.on('response', (h) => resolve(h[':status']));
    req.on('error', reject);
    req.resume();
  });
  t.equal(h2Status, 200, 'the h2c session is served');

  for (let i = 0; i < 3; i++) t.equal(await tryConnect(gw.url), 'refused', `connection ${3 + i} is refused`);
  t.equal(await refusedCount(gw), 3, 'counted, and /metrics answers on the operational listener meanwhile');
  const logged = gw.logs.filter((l) => String(l.msg).startsWith('client connections refused'));
  t.equal(logged.length, 1, 'one debug line for the burst, not one per connection');
  t.match(logged[0], { level: 'debug', max_connections: 2 });

  h2c.close();
  t.ok(await eventually(async () => (await tryConnect(gw.url)) === 'served'), 'served again once the h2c session closed');
  h1.destroy();
  t.ok(await eventually(async () => (await tryConnect(gw.url)) === 'served'), 'and once the HTTP/1.1 one closed');
});

t.test('TLS: connections are counted from the TCP accept, before the handshake', async (t) => {
  const dir = tempDir('gw-cap-tls-');
  const ca = selfSignedCertificate(dir, { altNames: 'IP:127.0.0.1' }).pem;
  const gw = await startGateway(t, `server:\n  host: 127.0.0.1\n  max_connections: 1\n  admin: { port: 0 }\n  tls: { cert_file: ${path.join(dir, 'cert.pem')}, key_file: ${path.join(dir, 'key.pem')} }\nproviders:\n  echo: {}\n`);
  const port = Number(new URL(gw.url).port);
  // A client that never sends a ClientHello holds the one place.
  const silent = net.connect(port, '127.0.0.1');
  t.teardown(() => silent.destroy());
  await new Promise((r) => silent.once('connect', r));
  t.ok(await eventually(async () => (await refusedCount(gw)) === 0));
  const handshake = (): Promise<string> =>
    new Promise((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
        resolve(`secure:${s.alpnProtocol}`);
        s.destroy();
      });
      s.on('error', (err: NodeJS.ErrnoException) => resolve(`refused:${err.code}`));
      s.on('close', () => resolve('refused:closed'));
    });
  t.match(await handshake(), /^refused:/, 'a second TLS client is refused');
  t.equal(await refusedCount(gw), 1);
  silent.destroy();
  t.ok(await eventually(async () => (await handshake()) === 'secure:h2'), 'a TLS client is served once the first left');
});
