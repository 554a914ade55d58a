/**
 * The bench's open-loop generator: it finds each response's end under every framing our
 * servers use (content-length, chunked, split across reads), counts non-200 answers and
 * failed connections as errors, and times a request from its issue, waits for a connection
 * included.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { openLoop } from '../../bench/lib/open-loop.js';
import { freePort } from '../helpers/ports.js';

async function serve(t: Test, handler: http.RequestListener): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      bodies.push(body);
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/messages`, bodies };
}

t.test('content-length and chunked answers, whole or split across reads, are each one sample', async (t) => {
  let n = 0;
  const { url, bodies } = await serve(t, (_req, res) => {
    const i = n++;
    if (i % 3 === 0) return void res.end(JSON.stringify({ i, pad: 'x'.repeat(3000) })); // content-length
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"chunked":');
    if (i % 3 === 1) return void res.end(`${i}}`);
    // The last chunk arrives in a later read.
    setTimeout(() => res.end(`${i}}`), 2);
  });
  const result = await openLoop({ url, headers: { 'x-test': '1' }, body: '{"hello":"world"}' }, 400, 0.5, 4);
  t.equal(result.errors, 0);
  t.equal(result.samples.length, 200, 'every request answered once');
  t.ok(result.samples.every((ms) => ms >= 0 && ms < 5_000), 'latencies are plausible');
  t.ok(bodies.every((b) => b === '{"hello":"world"}'), 'the body arrives whole');
});

t.test('non-200 answers are errors, not samples', async (t) => {
  let n = 0;
  const { url } = await serve(t, (_req, res) => {
    res.statusCode = n++ % 4 === 0 ? 503 : 200;
    res.end('{}');
  });
  const result = await openLoop({ url, headers: {}, body: '{}' }, 400, 0.5, 4);
  t.equal(result.samples.length + result.errors, 200);
  t.equal(result.errors, 50);
});

t.test('a request waiting for a free connection counts its wait', async (t) => {
  const { url } = await serve(t, (_req, res) => {
    setTimeout(() => res.end('{}'), 30); // 4 connections, 30 ms each: ~130 req/s served of 400 offered
  });
  const result = await openLoop({ url, headers: {}, body: '{}' }, 400, 0.5, 4);
  t.equal(result.samples.length, 200);
  t.ok(Math.min(...result.samples) >= 29, 'no answer sooner than the server gives it');
  // The last requests were issued at ~0.5 s and answered at ~1.5 s.
  t.ok(Math.max(...result.samples) > 800, `the queued ones are late (max ${Math.max(...result.samples).toFixed(0)} ms)`);
});

t.test('a server that is not there: every request is an error, and it ends', async (t) => {
  const port = await freePort();
  const result = await openLoop({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}' }, 100, 0.2, 2);
  t.same(result, { samples: [], errors: 20 });
});
