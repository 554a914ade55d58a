/**
 * Reading a request body whole: however its bytes come (with the head in one socket read,
 * after it, in chunks), within the size limit, and a client that goes away mid-body is a
 * client abort — with a request that ends, so Node lets go of it once answered.
 */
import http from 'node:http';
import net from 'node:net';
import t, { type Test } from 'tap';
import { GatewayError } from '../../core/errors.js';
import { readBody } from '../../core/request-body.js';

interface Read {
  body?: Buffer;
  error?: GatewayError;
  ended: Promise<boolean>;
}

/** A server that reads each body with `limit` and reports what it read. */
async function server(t: Test, limit: number): Promise<{ port: number; next: () => Promise<Read> }> {
  const waiting: Array<(r: Read) => void> = [];
  const reads: Read[] = [];
  const s = http.createServer((req, res) => {
    const ended = new Promise<boolean>((resolve) => {
      res.on('close', () => setTimeout(() => resolve(req.readableEnded), 50));
    });
    readBody(req, res, limit).then(
      (body) => {
        deliver({ body, ended });
        res.end(String(body.length));
      },
      (error: GatewayError) => {
        deliver({ error, ended });
        if (!res.destroyed) res.writeHead(error.status).end();
      },
    );
  });
  const deliver = (r: Read): void => {
    const w = waiting.shift();
    if (w) w(r);
    else reads.push(r);
  };
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return {
    port: (s.address() as net.AddressInfo).port,
    next: () => (reads.length ? Promise.resolve(reads.shift()!) : new Promise((resolve) => waiting.push(resolve))),
  };
}

/** Write `parts` to a fresh connection, `gapMs` apart; resolves with the socket. */
async function send(port: number, parts: string[], gapMs = 0): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.resume();
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const [i, part] of parts.entries()) {
    if (i > 0 && gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs));
    socket.write(part);
  }
  return socket;
}

const head = (length: number) => `POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;

t.test('a body that came with its head, after it, or in chunks is read whole, and the request ends', async (t) => {
  const s = await server(t, 10_000);
  const body = JSON.stringify({ text: 'é'.repeat(600) });
  const size = Buffer.byteLength(body);
  const shapes: Record<string, string[]> = {
    'with its head, one write': [head(size) + body],
    'after its head': [head(size), body],
    'in three pieces': [head(size) + body.slice(0, 10), body.slice(10, 400), body.slice(400)],
    chunked: [`POST /v1/messages HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n`, `${Buffer.byteLength(body.slice(0, 300)).toString(16)}\r\n${body.slice(0, 300)}\r\n`, `${Buffer.byteLength(body.slice(300)).toString(16)}\r\n${body.slice(300)}\r\n0\r\n\r\n`],
  };
  for (const [name, parts] of Object.entries(shapes)) {
    const socket = await send(s.port, parts, 20);
    const read = await s.next();
    t.equal(read.body?.toString(), body, `${name}: the bytes as sent`);
    t.equal(await read.ended, true, `${name}: the request ended`);
    socket.destroy();
  }
});

t.test('an empty body is read as empty', async (t) => {
  const s = await server(t, 10);
  const socket = await send(s.port, [head(0)]);
  const read = await s.next();
  t.equal(read.body?.length, 0);
  socket.destroy();
});

t.test('a body over the limit is refused with a 413, declared or not', async (t) => {
  const s = await server(t, 100);
  const declared = await send(s.port, [head(101) + 'x'.repeat(101)]);
  t.match((await s.next()).error, { code: 'GW_ERR_REQUEST_TOO_LARGE', status: 413 }, 'declared in content-length');
  declared.destroy();
  const grown = await send(s.port, [`POST /v1/messages HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n`, `50\r\n${'x'.repeat(80)}\r\n`, `50\r\n${'x'.repeat(80)}\r\n0\r\n\r\n`], 20);
  t.match((await s.next()).error, { code: 'GW_ERR_REQUEST_TOO_LARGE', status: 413 }, 'chunked, past the limit as it grows');
  grown.destroy();
});

t.test('a client that goes away mid-body is a client abort', async (t) => {
  const s = await server(t, 10_000);
  for (const gapMs of [0, 30]) {
    const socket = await send(s.port, [head(1000) + 'x'.repeat(10)]);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    socket.destroy();
    t.match((await s.next()).error, { code: 'GW_ERR_CLIENT_ABORT' }, `gone ${gapMs} ms after the head`);
  }
});
