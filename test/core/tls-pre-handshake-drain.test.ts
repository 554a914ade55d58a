/**
 * With TLS, a TCP connection that never starts its handshake (a load balancer's TCP check,
 * a port probe) carries no request: a drain cuts it at once. The listener learned of TLS
 * connections only at ALPN, so the TLS server's close() waited on such a socket for the
 * whole drain_timeout_ms.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { selfSignedCertificate } from '../helpers/certificate.js';
import { startGateway } from '../helpers/gateway.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('gw-tls-drain-');
selfSignedCertificate(dir, { altNames: '' });

const CONFIG = 'server:\n  drain_timeout_ms: 6000\n  tls:\n    cert_file: cert.pem\n    key_file: key.pem\nproviders:\n  echo: {}\n';

t.test('a connection that has not started its TLS handshake does not hold up the drain', async (t) => {
  const gw = await startGateway(t, CONFIG, { dir });
  const session = http2.connect(gw.url, { rejectUnauthorized: false });
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  await new Promise((resolve) => session.once('connect', resolve));
  await sleep(50);
  t.equal(gw.gateway['listener']!.connections, 1, 'a connection past its handshake counts once');
  const probe = net.connect(Number(new URL(gw.url).port), '127.0.0.1');
  probe.on('error', () => {});
  t.teardown(() => probe.destroy());
  const cut = new Promise<void>((resolve) => probe.once('close', () => resolve()));
  await new Promise((resolve) => probe.once('connect', resolve));
  await sleep(100);
  t.equal(gw.gateway['listener']!.connections, 2, 'the one still before it is counted too');
  const started = performance.now();
  const closed = await Promise.race([gw.gateway.close().then(() => true), sleep(3000).then(() => false)]);
  const ms = Math.round(performance.now() - started);
  t.ok(closed, `closed ${ms} ms after close(); drain_timeout_ms is 6000`);
  t.notOk(gw.logs.some((l) => l.msg === 'drain timeout reached'), 'the drain did not time out');
  t.ok(await Promise.race([cut.then(() => true), sleep(1000).then(() => false)]), 'the probe connection was closed');
});
