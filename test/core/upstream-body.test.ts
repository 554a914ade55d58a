/**
 * The upstream body fed by undici's dispatcher (`forwardUpstream`): every byte in order for
 * a pushed reader and for `for await`, chunks held until a reader comes, backpressure that
 * really stops the upstream socket, and every way of stopping — destroy, break, the client's
 * cancellation, an upstream cut — closes the upstream connection and tells the reader.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { Pool } from 'undici';
import { RequestAbort } from '../../core/abort.js';
import { forwardUpstream } from '../../core/upstream.js';
import { GatewayError } from '../../core/errors.js';
import { UpstreamBody, type BodySink } from '../../core/stream/upstream-body.js';

const MB = 1024 * 1024;

/** 16 MB (more than loopback socket buffers hold) of bytes that differ by position, so reordering or loss changes the digest. */
const BIG = Buffer.alloc(16 * MB);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 31 + (i >> 13)) & 0xff;
const BIG_SHA = createHash('sha256').update(BIG).digest('hex');

interface Upstream {
  pool: Pool;
  /** Resolves when the upstream side of the last request's connection closes. */
  closed(): Promise<void>;
  /** Bytes of the last response the upstream got into its socket so far. */
  written(): number;
}

/** A server that answers with `send(res)`, noting when its connection closes and when its writes stall. */
async function upstream(t: Test, send: (res: http.ServerResponse) => void): Promise<Upstream> {
  let closed: Promise<void> = Promise.resolve();
  let socket: import('node:net').Socket | undefined;
  let base = 0;
  const server = http.createServer((req, res) => {
    socket = req.socket;
    base = socket.bytesWritten;
    closed = new Promise((resolve) => req.socket.once('close', () => resolve()));
    req.resume();
    req.on('end', () => send(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 4 });
  t.teardown(async () => {
    await pool.destroy();
    server.closeAllConnections();
    server.close();
  });
  // bytesWritten counts what is still queued in Node too; writableLength is that queue.
  return { pool, closed: () => closed, written: () => (socket ? socket.bytesWritten - socket.writableLength - base : 0) };
}

/** Write `BIG` in 64 KB pieces, honouring backpressure. */
function sendBig(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BIG.length) });
  let at = 0;
  const more = (): void => {
    while (at < BIG.length) {
      const piece = BIG.subarray(at, at + 64 * 1024);
      at += piece.length;
      if (!res.write(piece)) return void res.once('drain', more);
    }
    res.end();
  };
  more();
}

function forward(pool: Pool, signal = new RequestAbort()) {
  return forwardUpstream(pool, { method: 'POST', path: '/v1/messages', headers: {}, body: Buffer.from('{}'), signal });
}

t.test('a pushed reader that pauses gets every byte, in order', async (t) => {
  const up = await upstream(t, sendBig);
  const res = await forward(up.pool);
  t.ok(res.body instanceof UpstreamBody);
  const body = res.body as UpstreamBody;
  const hash = createHash('sha256');
  let received = 0;
  let refusals = 0;
  await new Promise<void>((resolve, reject) => {
    body.attach({
      data(chunk) {
        hash.update(chunk);
        received += chunk.length;
        // A slow client: refuse every 256 KB and take more 20 ms later.
        if (received % (256 * 1024) < chunk.length) {
          refusals++;
          setTimeout(() => body.resume(), 20);
          return false;
        }
        return true;
      },
      end: resolve,
      error: reject,
    });
  });
  t.equal(received, BIG.length, 'all bytes');
  t.equal(hash.digest('hex'), BIG_SHA, 'in order, unchanged');
  t.ok(refusals >= 10, `the reader paused ${refusals} times`);
});

t.test('for await reads every byte; chunks that came before the reader are held', async (t) => {
  const up = await upstream(t, sendBig);
  const res = await forward(up.pool);
  await sleep(150); // the upstream writes meanwhile; the body holds up to its bound, then pauses undici
  const early = up.written();
  t.ok(early < BIG.length / 2, `with no reader the upstream was held back after ${(early / MB).toFixed(1)} MB of 16 (socket buffers), not read whole`);
  const hash = createHash('sha256');
  let received = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    received += chunk.length;
  }
  t.equal(received, BIG.length);
  t.equal(hash.digest('hex'), BIG_SHA);
});

t.test('a small body that ended before the reader came is delivered, then the end, once', async (t) => {
  const up = await upstream(t, (res) => res.end('{"ok":true}'));
  const res = await forward(up.pool);
  await sleep(30);
  const seen: string[] = [];
  const sink: BodySink = { data: (c) => (seen.push(Buffer.from(c).toString()), true), end: () => seen.push('END'), error: (e) => seen.push(`ERR ${e.message}`) };
  (res.body as UpstreamBody).attach(sink);
  t.same(seen, ['{"ok":true}', 'END']);
  t.throws(() => (res.body as UpstreamBody).attach(sink), /already has a reader/, 'one reader per body');
});

t.test('destroy() and break close the upstream connection', async (t) => {
  const up = await upstream(t, sendBig);
  const res = await forward(up.pool);
  (res.body as UpstreamBody).destroy();
  await up.closed();
  t.pass('destroyed: connection closed');

  const again = await forward(up.pool);
  let chunks = 0;
  for await (const _ of again.body as AsyncIterable<Uint8Array>) {
    if (++chunks === 2) break;
  }
  await up.closed();
  t.pass('break: connection closed');
});

t.test("the client's cancellation mid-body reaches the reader and closes the upstream", async (t) => {
  const up = await upstream(t, (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: ping\ndata: {}\n\n'); // and never ends
  });
  const cancel = new RequestAbort();
  const res = await forward(up.pool, cancel);
  const got = new Promise<Error>((resolve, reject) => (res.body as UpstreamBody).attach({ data: () => true, end: () => reject(new Error('ended')), error: resolve }));
  setTimeout(() => cancel.abort(), 30);
  const err = await got;
  t.equal(err.name, 'AbortError');
  await up.closed();
  t.pass('upstream connection closed');
});

t.test('an upstream cut mid-body fails the reader with a mappable error', async (t) => {
  const up = await upstream(t, (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"partial":');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const res = await forward(up.pool);
  const chunks: Uint8Array[] = [];
  const err = await (async () => {
    for await (const c of res.body as AsyncIterable<Uint8Array>) chunks.push(c);
  })().catch((e: unknown) => e as Error);
  t.ok(err instanceof Error, 'iteration rejects');
  t.equal(Buffer.concat(chunks).toString(), '{"partial":', 'what came before was delivered');
});

t.test('a request cancelled before it is answered is refused as a client abort', async (t) => {
  const up = await upstream(t, () => {}); // never answers
  const cancel = new RequestAbort();
  cancel.abort();
  const err = await forward(up.pool, cancel).catch((e: unknown) => e);
  t.ok(err instanceof GatewayError);
  t.equal((err as GatewayError).code, 'GW_ERR_CLIENT_ABORT');
});
