/**
 * Upstream pools across reloads: a reload that keeps a provider's origin and options keeps
 * its pool and its warm connections; one that moves the provider elsewhere closes the old
 * pool once the pipeline that used it has drained (not 30 s later, when keep-alive would
 * have let its sockets go, and not never, as the pool object itself was), and a call still
 * in flight on it finishes first.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import t from 'tap';
import { reloadWith, startGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/live.js';
import { messagesBody } from '../helpers/anthropic.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A Messages upstream that counts its connections; a request whose body says "slow" is answered after `slowMs`. */
async function upstream(t: Teardown, slowMs = 400): Promise<{ url: string; open: Set<Socket>; accepted: () => number; answering: () => number }> {
  const open = new Set<Socket>();
  let accepted = 0;
  let answering = 0;
  const server = http.createServer((req, res) => {
    answering++;
    res.on('close', () => answering--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      const answer = JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 1 } });
      const send = (): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      if (text.includes('slow')) setTimeout(send, slowMs);
      else send();
    });
  });
  server.keepAliveTimeout = 60_000; // longer than the gateway's 30 s: only the gateway lets go
  server.on('connection', (socket: Socket) => {
    accepted++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, open, accepted: () => accepted, answering: () => answering };
}

function config(baseUrl: string, comment = ''): string {
  return [`# ${comment}`, 'providers:', '  anthropic:', '    api_key: sk-ant-test-0000', `    base_url: ${baseUrl}`, ''].join('\n');
}

/** Reloads with `yaml`, which must build. */
async function reload(gw: TestGateway, yaml: string): Promise<void> {
  if (!(await reloadWith(gw, yaml)).ok) throw new Error('reload failed');
}

async function ask(gw: TestGateway, text = 'Hello'): Promise<{ status: number; body: string }> {
  const res = await fetch(`${gw.url}/v1/claude/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: messagesBody({ messages: [{ role: 'user', content: text }] }),
  });
  return { status: res.status, body: await res.text() };
}

t.test('a reload that keeps the provider keeps its connections', async (t) => {
  const a = await upstream(t);
  const gw = await startGateway(t, config(a.url), { watch: false });
  t.equal((await ask(gw)).status, 200);
  t.equal(a.accepted(), 1);
  await reload(gw, config(a.url, 'the same provider, another generation'));
  await new Promise((resolve) => setTimeout(resolve, 200)); // the old generation has drained and released
  t.equal((await ask(gw)).status, 200);
  t.equal(a.accepted(), 1, 'served on the connection opened before the reload');
  t.equal(a.open.size, 1, 'which is still open');
});

t.test('a provider moved elsewhere: the old pool closes after the call in flight on it', async (t) => {
  const a = await upstream(t);
  const b = await upstream(t);
  const gw = await startGateway(t, config(a.url), { watch: false });
  t.equal((await ask(gw)).status, 200);
  t.equal(a.open.size, 1, 'a warm connection to the first upstream');

  const inFlight = ask(gw, 'slow');
  await waitFor(() => a.answering() === 1, 2000); // the slow call is at the first upstream
  await reload(gw, config(b.url));
  t.equal((await ask(gw)).status, 200);
  t.equal(b.accepted(), 1, 'the new config is served by the second upstream');

  const slow = await inFlight;
  t.equal(slow.status, 200, 'the call in flight on the old pool finished');
  t.match(slow.body, /"text":"hi"/, 'whole');
  await waitFor(() => a.open.size === 0, 2000, 10);
  t.pass("the first upstream's connections closed after the call, not at keep-alive's 30 s");
  t.equal(b.open.size, 1, 'the second upstream keeps its warm connection');
  t.equal((await ask(gw)).status, 200, 'and serves on');
});

t.test('a provider moved away and back gets a fresh pool that works', async (t) => {
  const a = await upstream(t);
  const b = await upstream(t);
  const gw = await startGateway(t, config(a.url), { watch: false });
  t.equal((await ask(gw)).status, 200);
  await reload(gw, config(b.url));
  await waitFor(() => a.open.size === 0, 2000, 10);
  await reload(gw, config(a.url));
  t.equal((await ask(gw)).status, 200, 'served by the first upstream again');
  t.equal(a.accepted(), 2, 'on a new connection');
  await waitFor(() => b.open.size === 0, 2000, 10);
  t.pass('and the second upstream let go');
});
