/**
 * A request body is not held for the life of its answer. Core lets go of `ctx.body` once
 * a provider's answer begins to flow (the outcome keeps its size), and a large body goes to
 * undici as a one-shot iterable: undici keeps a Buffer body until the response has ended,
 * which for a stream is minutes, and an agent's prompt is often 100 KB or more.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { poolClass } from '../../core/pool.js';
import { forwardUpstream } from '../../core/upstream.js';
import { startGateway } from '../helpers/gateway.js';
import { messages } from '../helpers/live.js';
import { completedBodies } from '../fixtures/recording-filter.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const plugin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'recording-filter.ts');

t.test('ctx.body is let go once the answer flows; the outcome keeps its size', async (t) => {
  const gw = await startGateway(t, `server:\n  max_body_bytes: 200000\nproviders:\n  echo: {}\nfilters:\n  - name: recording\n    plugin: ${JSON.stringify(plugin)}\n    config: { tag: body }\n`);
  completedBodies.length = 0;
  const sent: number[] = [];
  for (const body of [messages('x'.repeat(100_000), true), messages('short', true)]) {
    const res = await fetch(`${gw.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    t.equal(res.status, 200);
    t.match(await res.text(), /message_stop/, 'the stream arrived whole');
    sent.push(Buffer.byteLength(body));
  }
  t.same(completedBodies, sent.map((bytesIn) => ({ held: 0, bytesIn, stream: true })));
});

t.test("a filter's streamed reply leaves the body to the filters after it, which never saw it at onRequest", async (t) => {
  const replier = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'stream-reply-filter.ts');
  const gw = await startGateway(t, `providers:\n  echo: {}\nfilters:\n  - name: stream-reply\n    plugin: ${JSON.stringify(replier)}\n  - name: recording\n    plugin: ${JSON.stringify(plugin)}\n    config: { tag: after-reply }\n`);
  completedBodies.length = 0;
  const body = messages('answered by a filter', true);
  const res = await fetch(`${gw.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-stream-reply': '1' }, body });
  t.equal(res.status, 200);
  t.match(await res.text(), /event: done/, 'the filter\'s stream arrived whole');
  const size = Buffer.byteLength(body);
  t.same(completedBodies, [{ held: size, bytesIn: size, stream: true }], 'the later filter reads the body at onComplete');
});

/** A loopback upstream that records each request and answers with a stream it keeps open until `end()`. */
async function holdingUpstream(t: { teardown(fn: () => unknown): void }) {
  const received: Array<{ headers: IncomingHttpHeaders; bytes: Buffer }> = [];
  const open = new Set<import('node:http').ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, bytes: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: ping\ndata: {}\n\n');
      open.add(res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const end = () => {
    for (const res of open) res.end();
    open.clear();
  };
  t.teardown(() => {
    end();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, end };
}

t.test('a large body is forwarded whole, with its length, and is not held while the answer streams', async (t) => {
  const upstream = await holdingUpstream(t);
  const Pool = poolClass();
  const pool = new Pool(upstream.url, { connections: 2 });
  t.teardown(() => pool.close());
  const signal = new AbortController().signal;

  for (const size of [100_000, 1_000]) {
    let weak: WeakRef<Buffer> | undefined;
    const start = async () => {
      const bytes = Buffer.alloc(size, 'a');
      weak = new WeakRef(bytes);
      return forwardUpstream(pool, { method: 'POST', path: '/v1/messages', headers: { 'content-type': 'application/json' }, body: bytes, signal });
    };
    const res = await start();
    const body = res.body as AsyncIterable<Uint8Array>;
    const it = body[Symbol.asyncIterator]();
    t.match(Buffer.from((await it.next()).value as Uint8Array).toString(), /event: ping/, `${size} B: the stream began`);
    const got = upstream.received.at(-1)!;
    t.equal(got.bytes.length, size, `${size} B: every byte arrived`);
    t.ok(got.bytes.every((b) => b === 97), `${size} B: the bytes as sent`);
    t.equal(got.headers['content-length'], String(size), `${size} B: sent with its length`);
    t.notOk(got.headers['transfer-encoding'], `${size} B: not chunked`);
    // deref() keeps its target alive to the end of the job it ran in: collect in jobs of their own.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    // Small bodies stay with undici as Buffers (cheaper to send; the bytes are few).
    if (size >= 16 * 1024) t.equal(weak!.deref(), undefined, `${size} B: collected while the answer is still open`);
    else t.ok(weak!.deref(), `${size} B: a small body is still handed over as a Buffer`);
    upstream.end();
    for (let r = await it.next(); !r.done; r = await it.next());
  }
});
