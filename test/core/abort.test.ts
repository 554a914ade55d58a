/**
 * The request's cancellation: listeners run once on abort, a removed one never; the
 * AbortSignal is made only when read and always agrees; undici cancels a request given it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { Pool } from 'undici';
import { RequestAbort } from '../../core/abort.js';
import { forwardUpstream } from '../../core/upstream.js';
import { GatewayError } from '../../core/errors.js';

t.test('listeners run once, on abort; removed ones never', async (t) => {
  const a = new RequestAbort();
  let first = 0;
  let second = 0;
  const one = (): void => void first++;
  const two = (): void => void second++;
  a.once('abort', one);
  a.on('abort', two);
  a.removeListener('abort', two);
  t.equal(a.aborted, false);
  a.abort('client left');
  a.abort('again');
  t.equal(first, 1, 'ran once');
  t.equal(second, 0, 'removed before the abort');
  t.equal(a.aborted, true);
  t.equal(a.reason, 'client left', 'the first reason stays');
  let late = 0;
  a.once('abort', () => void late++);
  t.equal(late, 0, 'a listener added after the abort is not queued (callers check aborted first)');
});

t.test('the AbortSignal is made on first read and fires with the request', async (t) => {
  const before = new RequestAbort();
  const signal = before.signal;
  t.equal(before.signal, signal, 'one signal per request');
  let fired = 0;
  signal.addEventListener('abort', () => void fired++);
  before.abort();
  t.equal(signal.aborted, true);
  t.equal(fired, 1);
  t.equal((signal.reason as DOMException).name, 'AbortError');

  const after = new RequestAbort();
  after.abort('gone');
  t.equal(after.signal.aborted, true, 'a signal read after the abort is already aborted');
  t.equal(after.signal.reason, 'gone');
});

t.test('undici takes it as a signal: an aborted request is cancelled upstream', async (t) => {
  let closed!: () => void;
  const upstreamClosed = new Promise<void>((resolve) => (closed = resolve));
  const server = http.createServer((req) => req.on('close', closed)); // never answers
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.teardown(async () => {
    await pool.destroy();
    server.close();
  });
  const a = new RequestAbort();
  const pending = forwardUpstream(pool, { method: 'POST', path: '/v1/messages', headers: {}, body: Buffer.from('{}'), signal: a });
  setTimeout(() => a.abort(), 50);
  const err = await pending.catch((e: unknown) => e);
  t.ok(err instanceof GatewayError);
  t.equal((err as GatewayError).code, 'GW_ERR_CLIENT_ABORT');
  await upstreamClosed;
  t.pass('the upstream connection was closed');
});
