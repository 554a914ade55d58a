/**
 * A request body is not held for the life of its answer. Core lets go of `ctx.body` once
 * a provider's answer begins to flow (the outcome keeps its size), and a large body (from
 * 16 KiB, or 4 KiB when the answer streams) goes to undici as a one-shot iterable: undici
 * keeps a Buffer body until the response has ended, which for a stream is minutes, and an
 * agent's prompt is often 100 KB or more.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { poolClass } from '../../core/pool.js';
import { forwardUpstream } from '../../core/upstream.js';
import { startGateway } from '../helpers/gateway.js';
import { exposedGc } from '../helpers/gc.js';
import { messages } from '../helpers/live.js';
import { completedBodies } from '../fixtures/recording-filter.js';
import { AnthropicMock } from '../mocks/anthropic-mock.js';

const gc = exposedGc();
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

t.test('a large body, or a streamed answer\'s from 4 KiB, is forwarded whole, with its length, and is not held while the answer streams', async (t) => {
  // The mock records each request and, holding, keeps its stream open after the first event.
  const upstream = await AnthropicMock.start({ apiKey: 'sk-ant-test' });
  upstream.hold = true;
  const Pool = poolClass();
  const pool = new Pool(upstream.url, { connections: 2 });
  t.teardown(async () => {
    await pool.destroy();
    await upstream.close();
  });
  const signal = new AbortController().signal;

  const cases = [
    { size: 100_000, stream: false, held: false },
    { size: 10_000, stream: false, held: true },
    { size: 1_000, stream: false, held: true },
    { size: 10_000, stream: true, held: false },
    { size: 1_000, stream: true, held: true },
  ];
  for (const { size, stream, held } of cases) {
    const sent = messages('a'.repeat(size), true);
    let weak: WeakRef<Buffer> | undefined;
    const start = async () => {
      const bytes = Buffer.from(sent);
      weak = new WeakRef(bytes);
      const headers = { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' };
      return forwardUpstream(pool, { method: 'POST', path: '/v1/messages', headers, body: bytes, signal, stream });
    };
    const res = await start();
    const body = res.body as AsyncIterable<Uint8Array> & { destroy(): void };
    const it = body[Symbol.asyncIterator]();
    t.match(Buffer.from((await it.next()).value as Uint8Array).toString(), /event: message_start/, `${size} B, stream: ${stream}: the stream began`);
    const got = upstream.requests.at(-1)!;
    t.equal(got.body.length, Buffer.byteLength(sent), `${size} B: every byte arrived`);
    t.equal(got.body.toString(), sent, `${size} B: the bytes as sent`);
    t.equal(got.headers['content-length'], String(Buffer.byteLength(sent)), `${size} B: sent with its length`);
    t.notOk(got.headers['transfer-encoding'], `${size} B: not chunked`);
    // deref() keeps its target alive to the end of the job it ran in: collect in jobs of their own.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    // A small body stays with undici as a Buffer: cheaper to send, held for milliseconds (a
    // short answer) or held at under 4 KiB (a stream).
    if (held) t.ok(weak!.deref(), `${size} B, stream: ${stream}: a small body is still handed over as a Buffer`);
    else t.equal(weak!.deref(), undefined, `${size} B, stream: ${stream}: collected while the answer is still open`);
    body.destroy();
  }
});
