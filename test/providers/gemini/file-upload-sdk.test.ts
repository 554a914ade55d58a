/**
 * `ai.files.upload()` is Google's resumable upload: a `start` call answered with an
 * absolute `x-goog-upload-url`, then the bytes POSTed there. The SDK keeps that URL's path
 * and query and puts its own base URL's scheme, host and port in front. Through the
 * gateway the path must therefore lead back under the route prefix, so the bytes go
 * through the gateway, with its key, and never to Google with the client's.
 */
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import t from 'tap';
import { GoogleGenAI } from '@google/genai';
import { GeminiMock } from '../../mocks/gemini-mock.js';
import { selfSignedCertificate } from '../../helpers/certificate.js';
import { startGateway } from '../../helpers/gateway.js';
import { call } from '../../helpers/http.js';
import { tempDir } from '../../helpers/temp-dir.js';

const GATEWAY_KEY = 'AIza-gateway-key-000000000000000000';
const CLIENT_KEY = 'AIza-client-key-must-never-leave-00';

t.test('files.upload: both legs go through the gateway with its key', async (t) => {
  const mock = await GeminiMock.start(GATEWAY_KEY);
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `providers:\n  gemini:\n    api_key: ${GATEWAY_KEY}\n    base_url: ${mock.url}\n`);
  const ai = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: `${gw.url}/v1/gemini` } });

  const content = 'notes for the model\n'.repeat(50);
  const file = await ai.files.upload({ file: new Blob([content], { type: 'text/plain' }), config: { mimeType: 'text/plain' } });
  t.equal(file.name, 'files/mock01', 'the File the upload made');
  t.equal(file.sizeBytes, String(content.length), 'all the bytes arrived');
  t.equal(mock.requests.length, 2, 'start and upload both reached the provider');
  t.equal(mock.requests[1].url, '/upload/v1beta/files?upload_id=mockupload01&upload_protocol=resumable', 'the upload session, query kept');
  t.equal(mock.requests[1].body.toString(), content, 'the bytes as sent');
  t.ok(mock.requests.every((r) => r.headers['x-goog-api-key'] === GATEWAY_KEY), "each leg with the gateway's key");
  t.ok(mock.requests.every((r) => !JSON.stringify(r.headers).includes(CLIENT_KEY) && !r.url.includes(CLIENT_KEY)), "never the client's");
});

t.test('the start answer names the gateway, under the route prefix, as the client reached it', async (t) => {
  const mock = await GeminiMock.start(GATEWAY_KEY);
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `providers:\n  gemini:\n    api_key: ${GATEWAY_KEY}\n    base_url: ${mock.url}\n`);
  const start = { 'x-goog-api-key': CLIENT_KEY, 'content-type': 'application/json', 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start' };
  const res = await call(`${gw.url}/v1/gemini/upload/v1beta/files`, { body: '{"file":{}}', headers: start });
  t.equal(res.status, 200);
  t.equal(res.headers['x-goog-upload-url'], `${gw.url}/v1/gemini/upload/v1beta/files?upload_id=mockupload01&upload_protocol=resumable`);
  const proxied = await call(`${gw.url}/v1/gemini/upload/v1beta/files`, { body: '{"file":{}}', headers: { ...start, 'x-forwarded-proto': 'https', host: 'ai.example.com' } });
  t.equal(proxied.headers['x-goog-upload-url'], 'https://ai.example.com/v1/gemini/upload/v1beta/files?upload_id=mockupload01&upload_protocol=resumable', 'behind a TLS proxy: its scheme and the Host the client named');
});

t.test('over TLS, HTTP/1.1 and h2 alike, the URL is https', async (t) => {
  const dir = tempDir('gw-upload-tls-');
  const ca = selfSignedCertificate(dir, { altNames: 'IP:127.0.0.1' }).pem;
  const mock = await GeminiMock.start(GATEWAY_KEY);
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `server:\n  tls: { cert_file: cert.pem, key_file: key.pem }\nproviders:\n  gemini:\n    api_key: ${GATEWAY_KEY}\n    base_url: ${mock.url}\n`, { dir });
  const start = { 'x-goog-api-key': CLIENT_KEY, 'content-type': 'application/json', 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start' };
  const expected = `${gw.url}/v1/gemini/upload/v1beta/files?upload_id=mockupload01&upload_protocol=resumable`;
  t.match(expected, /^https:/);

  const h1 = await new Promise<string | string[] | undefined>((resolve, reject) => {
    const req = https.request(`${gw.url}/v1/gemini/upload/v1beta/files`, { method: 'POST', ca, headers: start, agent: false }, (res) => {
      res.resume();
      resolve(res.headers['x-goog-upload-url']);
    });
    req.on('error', reject);
    req.end('{"file":{}}');
  });
  t.equal(h1, expected, 'HTTP/1.1 over TLS');

  const session = http2.connect(gw.url, { ca });
  t.teardown(() => session.close());
  const h2 = await new Promise<unknown>((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/v1/gemini/upload/v1beta/files', ...start });
    stream.on('response', (headers) => {
      stream.resume();
      resolve(headers['x-goog-upload-url']);
    });
    stream.on('error', reject);
    stream.end('{"file":{}}');
  });
  t.equal(h2, expected, 'h2');
});

t.test('a client that names no host (HTTP/1.0) gets a path, never Google\'s origin', async (t) => {
  const mock = await GeminiMock.start(GATEWAY_KEY);
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `providers:\n  gemini:\n    api_key: ${GATEWAY_KEY}\n    base_url: ${mock.url}\n`);
  const body = '{"file":{}}';
  const { port } = new URL(gw.url);
  const head = await new Promise<string>((resolve, reject) => {
    // Written, not ended: HTTP/1.0 closes the connection after the answer.
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(
        `POST /v1/gemini/upload/v1beta/files HTTP/1.0\r\nx-goog-api-key: ${CLIENT_KEY}\r\ncontent-type: application/json\r\n` +
          `x-goog-upload-protocol: resumable\r\nx-goog-upload-command: start\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
    });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  t.match(head, /^HTTP\/1\.[01] 200/, 'answered');
  const url = /\r\nx-goog-upload-url: ([^\r]*)\r\n/i.exec(head)?.[1];
  t.equal(url, '/v1/gemini/upload/v1beta/files?upload_id=mockupload01&upload_protocol=resumable');
});
