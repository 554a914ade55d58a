/**
 * Cleartext HTTP/2 (prior knowledge): a client whose connection goes away ends its requests.
 * The socket was accepted by the HTTP/1.1 server, which makes sockets half-open and ends
 * them itself on the client's FIN; after the handoff nothing did, so the session, its
 * streams and the upstream calls under them stayed until idle_timeout_ms.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/live.js';

/** An Anthropic-shaped upstream that answers after 4 s and counts the calls cut before that. */
async function slowUpstream(t: Test): Promise<{ url: string; state: { active: number; cancelled: number } }> {
  const state = { active: 0, cancelled: 0 };
  const server = http.createServer(async (req, res) => {
    for await (const _ of req) void _;
    state.active++;
    let done = false;
    res.on('close', () => {
      state.active--;
      if (!done) state.cancelled++;
    });
    setTimeout(() => {
      done = true;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: 'm', type: 'message', role: 'assistant', model: 'c', content: [], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } }));
    }, 4000);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state };
}

function connect(url: string): http2.ClientHttp2Session {
  const session = http2.connect(url);
  session.on('error', () => {});
  return session;
}

t.test('a client that disconnects while its answer is pending cancels the upstream call', async (t) => {
  const up = await slowUpstream(t);
  const gw = await startGateway(t, `server:\n  drain_timeout_ms: 1000\nproviders:\n  anthropic:\n    api_key: sk-test-123456789\n    base_url: ${up.url}\n`);
  const session = connect(gw.url);
  const stream = session.request({ ':method': 'POST', ':path': '/v1/claude/v1/messages', 'content-type': 'application/json' });
  stream.on('error', () => {});
  stream.end(JSON.stringify({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }));
  await waitFor(() => up.state.active === 1, 3000, 10);
  session.destroy();
  t.ok(await waitFor(() => up.state.cancelled === 1, 2000, 10).catch(() => false), 'the upstream call was cancelled');
  t.equal(gw.gateway.current.active, 0, 'the request is over');
});

t.test('a client that disconnects mid-body ends its request and its connection', async (t) => {
  const gw = await startGateway(t, 'server:\n  drain_timeout_ms: 1000\nproviders:\n  echo: {}\n');
  const session = connect(gw.url);
  const stream = session.request({ ':method': 'POST', ':path': '/v1/echo/v1/messages', 'content-type': 'application/json' });
  stream.on('error', () => {});
  stream.write('{"model":');
  await waitFor(() => gw.gateway.current.active === 1, 3000, 10);
  session.destroy();
  await sleep(500);
  t.equal(gw.gateway.current.active, 0, 'the request ended when the connection did');
  t.equal(gw.gateway['listener']!.connections, 0, 'and the connection is no longer counted');
});
