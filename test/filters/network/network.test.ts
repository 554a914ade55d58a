/**
 * The network filter in a real gateway on 127.0.0.1: allow and deny by CIDR, with and
 * without 127.0.0.1 as a trusted proxy sending X-Forwarded-For; refusals are 403 in the
 * route's dialect, and audited.
 */
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { TEST_PROVIDER_PLUGIN } from '../../helpers/rate-limit.js';
import { auditLines, messages, post, waitFor } from '../fixtures.js';

function config(network: { allow?: string[]; trusted_proxies?: string[] }): string {
  return JSON.stringify({
    providers: { echo: { models: ['echo-1'] }, oai: { plugin: TEST_PROVIDER_PLUGIN, prefix: '/v1/oai' } },
    filters: [
      { name: 'network', config: network },
      { name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } },
    ],
  });
}

async function status(url: string, xff?: string): Promise<number> {
  return (await post(`${url}/v1/echo/v1/messages`, xff === undefined ? {} : { 'x-forwarded-for': xff })).status;
}

t.test('without a trusted proxy: the socket peer decides and X-Forwarded-For is ignored', async (t) => {
  const open = await startGateway(t, config({ allow: ['127.0.0.0/8'] }));
  t.equal(await status(open.url), 200, '127.0.0.1 is in 127.0.0.0/8');
  t.equal(await status(open.url, '192.168.9.9'), 200, 'a forged header cannot get an allowed peer refused');

  const closed = await startGateway(t, config({ allow: ['10.0.0.0/8', 'fd00::/8'] }));
  t.equal(await status(closed.url), 403, '127.0.0.1 is outside');
  t.equal(await status(closed.url, '10.1.2.3'), 403, 'nor can a forged header get a refused peer in: 127.0.0.1 is not a trusted proxy');

  const defaults = await startGateway(t, config({}));
  t.equal(await status(defaults.url), 200, 'the default allows every address');
});

t.test('with 127.0.0.1 trusted: the address X-Forwarded-For names decides', async (t) => {
  const gw = await startGateway(t, config({ allow: ['10.0.0.0/8', '2001:db8::/32'], trusted_proxies: ['127.0.0.1/32'] }));
  t.equal(await status(gw.url, '10.1.2.3'), 200, 'a workspace address behind the proxy');
  t.equal(await status(gw.url, '2001:db8::42'), 200, 'IPv6 too');
  t.equal(await status(gw.url, '::ffff:10.9.9.9'), 200, 'and IPv4-mapped');
  t.equal(await status(gw.url, '192.168.1.1'), 403, 'an outside address behind the proxy');
  t.equal(await status(gw.url, '10.1.2.3, 192.168.1.1'), 403, 'the right-most untrusted hop is the client, not a left-most one the client wrote');
  t.equal(await status(gw.url, 'not-an-ip'), 403, 'an unparseable hop is refused');
  t.equal(await status(gw.url), 403, 'no header: the proxy itself is the client, and it is not allowed');

  const proxyOnly = await startGateway(t, config({ allow: ['127.0.0.0/8'], trusted_proxies: ['127.0.0.1'] }));
  t.equal(await status(proxyOnly.url, '192.168.1.1'), 403, "the proxy's own address does not admit the client behind it");
});

t.test('a refusal is a 403 in the route dialect, audited, and counted', async (t) => {
  const gw = await startGateway(t, config({ allow: ['10.0.0.0/8'] }));
  const anthropic = await post(`${gw.url}/v1/echo/v1/messages`, { 'x-request-id': 'net-1' });
  t.equal(anthropic.status, 403);
  const body = JSON.parse(anthropic.text) as { type: string; error: { type: string; message: string } };
  t.equal(body.type, 'error');
  t.equal(body.error.type, 'permission_error', "Anthropic's dialect: PermissionDeniedError in the SDK");
  t.match(body.error.message, /127\.0\.0\.1 are not allowed/);

  const plain = await post(`${gw.url}/v1/oai/chat/completions`, { 'x-request-id': 'net-2' }, messages());
  t.equal(plain.status, 403);
  t.match(JSON.parse(plain.text), { error: { code: 'GW_ERR_NETWORK_FORBIDDEN', type: 'permission' } }, 'the other route speaks its own dialect');

  const file = path.join(gw.dir, 'audit.log');
  t.ok(await waitFor(() => auditLines(file).length >= 2));
  const lines = new Map(auditLines(file).map((l) => [l.request_id, l]));
  for (const id of ['net-1', 'net-2']) t.match(lines.get(id), { status: 403, error: 'GW_ERR_NETWORK_FORBIDDEN', error_kind: 'rejected', replied_by: 'network', tokens_in: 0 }, `${id} audited`);
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.match(metrics, /gateway_network_refusals_total 2/);
});

t.test('a bad CIDR is a config error naming the entry', async (t) => {
  await t.rejects(startGateway(t, config({ allow: ['10.0.0.0/33'] })), /allow: "10\.0\.0\.0\/33"/);
  await t.rejects(startGateway(t, config({ trusted_proxies: ['proxy.internal'] })), /trusted_proxies: "proxy\.internal" is not an IP address/);
});
