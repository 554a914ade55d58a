/**
 * A plugin endpoint's request body counts in `server.max_inflight_body_bytes` like an AI
 * route's: each is at most 64 KiB, but the operational listener caps no connections, so
 * without the shared budget many slow uploads there could hold any amount. A body that would
 * pass it is a 503 `GW_ERR_OVERLOADED` with `retry-after`, and what a body reserved comes
 * back when the endpoint has answered or its client has gone.
 */
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

const plugin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plugins/body-endpoint.js');
const BUDGET = 100_000;
const BODY = 60_000;

async function held(gw: TestGateway): Promise<number> {
  const text = await (await fetch(`${gw.gateway.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('gateway_request_body_bytes_in_flight '));
  return Number(line?.split(' ')[1]);
}

async function heldBecomes(gw: TestGateway, bytes: number): Promise<boolean> {
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    if ((await held(gw)) === bytes) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** A client that declares a `length`-byte body to `url`'s /body-size and sends ten bytes of it. */
function slowUpload(url: string, length: number): net.Socket {
  const u = new URL(url);
  const s = net.connect(Number(u.port), u.hostname);
  s.on('error', () => {});
  s.write(`POST /body-size HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n{"a":"0123`);
  return s;
}

const post = (url: string, bytes: number) => fetch(`${url}/body-size`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(bytes) });

t.test('on the operational listener, plugin endpoint bodies share the budget', async (t) => {
  const gw = await startGateway(t, `server:
  max_body_bytes: 65536
  max_inflight_body_bytes: ${BUDGET}
  admin: { host: 127.0.0.1, port: 0, endpoints: [metrics, plugins] }
providers:
  echo: { models: [echo-1] }
filters:
  - name: body-endpoint
    plugin: ${plugin}
`);
  const admin = gw.gateway.adminUrl!;
  const ok = await post(admin, BODY);
  t.equal(ok.status, 200, 'a body that fits is served');
  t.same(await ok.json(), { bytes: BODY });
  t.ok(await heldBecomes(gw, 0), 'and gives its bytes back once answered');

  const slow = slowUpload(admin, BODY);
  t.ok(await heldBecomes(gw, BODY), 'a slow upload holds its declared length');
  const refused = await post(admin, BODY);
  t.equal(refused.status, 503, 'another that would pass the budget is refused');
  t.equal(refused.headers.get('retry-after'), '1', 'with retry-after');
  t.match(await refused.json(), { error: { code: 'GW_ERR_OVERLOADED' } });

  const ai = await fetch(`${gw.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'echo-1', max_tokens: 8, messages: [{ role: 'user', content: 'y'.repeat(BODY) }] }) });
  t.equal(ai.status, 529, 'the AI routes see the same budget (an Anthropic route: its overloaded_error)');
  await ai.arrayBuffer();

  slow.destroy();
  t.ok(await heldBecomes(gw, 0), 'the slow upload gives its bytes back when its client goes');
  t.equal((await post(admin, BODY)).status, 200, 'and the next body is served');
});
