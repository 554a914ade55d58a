/**
 * The session cookie's `Secure` flag follows the connection: over the gateway's own TLS
 * (`server.tls`, HTTP/1.1 or HTTP/2) it is set, so the browser never sends the cookie over
 * plain http:// to the same host; over cleartext only a proxy's `X-Forwarded-Proto: https`
 * sets it.
 */
import http2 from 'node:http2';
import { request } from 'node:https';
import t from 'tap';
import { selfSignedCertificate } from '../../helpers/certificate.js';
import { startGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { adminConfig, TOKEN } from './setup.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function postHttps(url: string, ca: Buffer, body: string): Promise<{ status: number; cookie: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, servername: 'localhost', headers: FORM }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cookie: String(res.headers['set-cookie'] ?? '') }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

function postH2(url: string, ca: Buffer, body: string): Promise<{ status: number; cookie: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, { ca, servername: 'localhost' });
    session.on('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': '/dashboard/login', ...FORM });
    stream.on('response', (headers) => {
      stream.resume();
      stream.on('end', () => {
        session.close();
        resolve({ status: Number(headers[':status']), cookie: String(headers['set-cookie'] ?? '') });
      });
    });
    stream.on('error', reject);
    stream.setTimeout(10_000, () => stream.close());
    stream.end(body);
  });
}

t.test('a session cookie set over the gateway\'s own TLS is Secure', async (t) => {
  const dir = tempDir('gw-tls-');
  const ca = selfSignedCertificate(dir).pem;
  const gw = await startGateway(t, adminConfig(TOKEN, 'server:\n  tls: { cert_file: cert.pem, key_file: key.pem }\n'), { dir });
  t.match(gw.url, /^https:/, 'the gateway serves TLS');
  const h1 = await postHttps(`${gw.url}/dashboard/login`, ca, `token=${TOKEN}`);
  t.equal(h1.status, 303, 'logged in over HTTP/1.1');
  t.match(h1.cookie, /;\s*Secure/, 'the cookie carries Secure');
  const h2 = await postH2(gw.url, ca, `token=${TOKEN}`);
  t.equal(h2.status, 303, 'logged in over HTTP/2');
  t.match(h2.cookie, /;\s*Secure/, 'the cookie carries Secure');
});

t.test('over cleartext, Secure only behind a proxy that says https', async (t) => {
  const gw = await startGateway(t, adminConfig());
  const login = async (headers: Record<string, string>) => {
    const r = await fetch(`${gw.url}/dashboard/login`, { method: 'POST', redirect: 'manual', headers: { ...FORM, ...headers }, body: `token=${TOKEN}` });
    await r.arrayBuffer();
    return r.headers.get('set-cookie') ?? '';
  };
  t.notMatch(await login({}), /Secure/, 'plain http: a Secure cookie would never come back');
  t.match(await login({ 'x-forwarded-proto': 'https' }), /;\s*Secure/, 'a TLS-terminating proxy in front');
  const out = await fetch(`${gw.url}/dashboard/logout`, { method: 'POST', redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
  await out.arrayBuffer();
  t.match(out.headers.get('set-cookie'), /Max-Age=0; Secure/, 'the logout cookie matches it');
});
