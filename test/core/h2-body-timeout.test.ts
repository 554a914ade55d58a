/**
 * request_timeout_ms over HTTP/2: a request body that has not all come within it is
 * answered 408 in the route's dialect and its stream reset, as HTTP/1.1's requestTimeout
 * cuts a body trickled a byte at a time. Before, an HTTP/2 body had no time limit: each
 * byte kept the stream, the body read so far and the request's pipeline for ever.
 */
import http2 from 'node:http2';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/live.js';
import { auditLines } from '../filters/fixtures.js';

const CONFIG = `server:
  drain_timeout_ms: 1000
  request_timeout_ms: 1000
providers:
  echo: {}
filters:
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 10 }
`;

t.test('an HTTP/2 body trickled past request_timeout_ms gets a 408 and its stream is reset', async (t) => {
  const gw = await startGateway(t, CONFIG);
  const session = http2.connect(gw.url);
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  const started = performance.now();
  const stream = session.request({ ':method': 'POST', ':path': '/v1/echo/v1/messages', 'content-type': 'application/json', 'x-request-id': 'trickle-h2' });
  stream.on('error', () => {});
  stream.write('{"model":');
  const trickle = setInterval(() => !stream.destroyed && stream.write(' '), 200);
  t.teardown(() => clearInterval(trickle));
  let body = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
  // Bounded: without a time limit the answer never comes.
  const status = await Promise.race([new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status'])))), sleep(4000).then(() => 0)]);
  const answeredMs = performance.now() - started;
  t.equal(status, 408, `answered ${Math.round(answeredMs)} ms after the request began`);
  t.ok(answeredMs >= 900 && answeredMs < 2000, 'at request_timeout_ms (1000), from the start of the request');
  await waitFor(() => stream.closed, 1000, 10).catch(() => {});
  t.ok(stream.closed, 'the stream was closed with the client still sending');
  t.equal(stream.rstCode, http2.constants.NGHTTP2_NO_ERROR, 'by a reset saying NO_ERROR: the answer is complete');
  t.match(JSON.parse(body || '{}'), { type: 'error', error: { type: String } }, 'the 408 is in the route dialect');
  t.equal(gw.gateway.current.active, 0, 'the request is over');
  const audit = path.join(gw.dir, 'audit.log');
  await waitFor(() => auditLines(audit).some((l) => l.request_id === 'trickle-h2'), 2000, 10).catch(() => {});
  t.match(auditLines(audit).find((l) => l.request_id === 'trickle-h2'), { status: 408, error: 'GW_ERR_REQUEST_TIMEOUT' }, 'audited as the gateway timing out the request');
});

t.test('an HTTP/2 body that comes in time is served', async (t) => {
  const gw = await startGateway(t, CONFIG);
  const session = http2.connect(gw.url);
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  const stream = session.request({ ':method': 'POST', ':path': '/v1/echo/v1/messages', 'content-type': 'application/json' });
  stream.write('{"model":"echo-1","max_tokens":8,');
  await sleep(500);
  stream.end('"messages":[{"role":"user","content":"hi"}]}');
  const status = await new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status']))));
  stream.resume();
  t.equal(status, 200);
});
