/**
 * `server.admin`: the operational endpoints it lists are served on their own listener and
 * answer 404 on the main (workspace-facing) port; the ones it does not list stay there.
 */
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';

const base = `providers:
  echo:
    models: [echo-1]
`;

t.test('/metrics, /health and /v1/providers move to the admin listener', async (t) => {
  const gw = await startGateway(t, `server:\n  admin: { host: 127.0.0.1, port: 0 }\n${base}`);
  const admin = gw.gateway.adminUrl!;
  t.ok(admin, 'the admin listener is up');
  t.not(admin, gw.url, 'on another port');

  const metrics = await fetch(`${admin}/metrics`);
  t.equal(metrics.status, 200);
  t.match(metrics.headers.get('content-type'), /^text\/plain/);
  t.match(await metrics.text(), /gateway_config_loads_total/);
  t.equal((await fetch(`${admin}/health`)).status, 200);
  t.match(await (await fetch(`${admin}/v1/providers`)).json(), { object: 'list' });

  for (const p of ['/metrics', '/health', '/v1/providers']) {
    const main = await fetch(`${gw.url}${p}`);
    t.equal(main.status, 404, `${p} is not served on the main port`);
    t.match(await main.json(), { error: { code: 'GW_ERR_ROUTE_NOT_FOUND' } }, 'like any unknown path');
  }

  const ai = await fetch(`${admin}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"echo-1","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}' });
  t.equal(ai.status, 404, 'the admin listener serves no AI route');
  t.equal((await fetch(`${admin}/v1/usage`)).status, 404);
  t.equal((await fetch(`${gw.url}/v1/echo/health`)).status, 200, "a provider's own health stays on its route");

  const metricsAfter = await (await fetch(`${admin}/metrics`)).text();
  t.notMatch(metricsAfter, /route="unmatched"/, 'the moved endpoints 404 outside the chain: never audited as AI traffic');
});

t.test('endpoints: only the listed ones move', async (t) => {
  const gw = await startGateway(t, `server:\n  admin: { host: 127.0.0.1, port: 0, endpoints: [metrics] }\n${base}`);
  t.equal((await fetch(`${gw.gateway.adminUrl}/metrics`)).status, 200);
  t.equal((await fetch(`${gw.url}/metrics`)).status, 404);
  t.equal((await fetch(`${gw.url}/health`)).status, 200, 'health stays on the main port for load balancers');
  t.equal((await fetch(`${gw.gateway.adminUrl}/health`)).status, 404, 'and is not on the admin one');
});

t.test('without server.admin everything stays on the main port', async (t) => {
  const gw = await startGateway(t, base);
  t.equal(gw.gateway.adminUrl, undefined);
  t.equal((await fetch(`${gw.url}/metrics`)).status, 200);
});

t.test('the schema: unknown keys and endpoints are config errors', async (t) => {
  await t.rejects(startGateway(t, `server:\n  admin: { port: 0, bind: 1.2.3.4 }\n${base}`), /server\.admin/);
  await t.rejects(startGateway(t, `server:\n  admin: { port: 0, endpoints: [usage] }\n${base}`), /server\.admin\.endpoints/);
  await t.rejects(startGateway(t, `server:\n  admin: { host: 127.0.0.1 }\n${base}`), /port/);
});
