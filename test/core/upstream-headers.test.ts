/**
 * `forwardUpstream`'s last guard over the headers a provider hands it: hop-by-hop and
 * connection-owned names never reach the upstream, whatever the provider put there, and
 * everything else arrives as given — seen by a real server on loopback.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { Pool } from 'undici';
import { RequestAbort } from '../../core/abort.js';
import { forwardUpstream } from '../../core/upstream.js';

t.test('hop-by-hop and connection-owned headers are dropped, the rest forwarded as given', async (t) => {
  let seen: http.IncomingHttpHeaders = {};
  const server = http.createServer((req, res) => {
    seen = req.headers;
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const pool = new Pool(`http://127.0.0.1:${port}`);
  t.teardown(async () => {
    await pool.destroy();
    server.close();
  });

  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-api-key': 'sk-provider',
    'anthropic-version': '2023-06-01',
    // undici refuses these outright: the request would fail were they left in.
    connection: 'x-secret-hop',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    upgrade: 'websocket',
    expect: '100-continue',
    'content-length': '999',
    // undici would forward these: the upstream would see them were they left in.
    host: 'evil.example',
    te: 'trailers',
    trailer: 'x-sum',
    'proxy-authorization': 'Basic Y2xpZW50OnNlY3JldA==',
    'proxy-connection': 'keep-alive',
    'proxy-authenticate': 'Basic',
    'http2-settings': 'AAMAAABkAAQAoAAAAAIAAAAA',
    'accept-encoding': 'gzip',
    'x-after': 'kept',
  };
  const res = await forwardUpstream(pool, { method: 'POST', path: '/v1/messages', headers, body: Buffer.from('{"a":1}'), signal: new RequestAbort() });
  for await (const _ of res.body as AsyncIterable<Buffer>) void _;
  t.equal(res.status, 200);
  t.equal(seen['content-type'], 'application/json');
  t.equal(seen['x-api-key'], 'sk-provider');
  t.equal(seen['anthropic-version'], '2023-06-01');
  t.equal(seen['x-after'], 'kept', 'a header after the dropped ones');
  t.equal(seen.host, `127.0.0.1:${port}`, 'the host is the connection\'s');
  t.equal(seen['content-length'], '7', 'the length is the body\'s');
  t.equal(seen['accept-encoding'], 'identity', 'answers arrive uncompressed: usage is read from their bytes');
  for (const name of ['keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'te', 'trailer', 'proxy-authorization', 'proxy-connection', 'proxy-authenticate', 'http2-settings']) {
    t.equal(seen[name], undefined, `${name} not forwarded`);
  }
  t.not(seen.connection, 'x-secret-hop');
});
