import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { makeWorkspaceKey } from '../../../filters/auth/keys.js';
import { startGateway } from '../../helpers/gateway.js';
import { config, post, SECRET } from '../fixtures.js';

const TOKEN = 'coder-session-token-value-xyz';
const RUNNING = '3f4e5c6d-7a8b-9c0d-1e2f-3a4b5c6d7e8f';
const STOPPED = '4a5b6c7d-8e9f-0a1b-2c3d-4e5f6a7b8c9d';

/** The fields of codersdk.Workspace a test changes; the rest as Coder sends them. */
type MockWorkspace = Record<string, unknown> & { latest_build: { status: string; transition?: string } };

/** A mock Coder API: GET /api/v2/workspaces/{id} shaped like codersdk.Workspace. */
async function mockCoder(t: Test): Promise<{ url: string; calls: string[]; server: Server; workspaces: Record<string, MockWorkspace> }> {
  const calls: string[] = [];
  const workspaces: Record<string, MockWorkspace> = {
    [RUNNING]: { id: RUNNING, name: 'dev', owner_name: 'jsmith', organization_name: 'acme', template_name: 'ubuntu-dev', template_display_name: 'Ubuntu', latest_build: { status: 'running', transition: 'start' } },
    [STOPPED]: { id: STOPPED, name: 'old', owner_name: 'jsmith', template_name: 'alpine-dev', latest_build: { status: 'stopped', transition: 'stop' } },
  };
  const server = createServer((req, res) => {
    calls.push(req.url ?? '');
    if (req.headers['coder-session-token'] !== TOKEN) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"unauthorized"}');
      return;
    }
    const id = decodeURIComponent((req.url ?? '').replace('/api/v2/workspaces/', ''));
    const ws = workspaces[id];
    if (!ws) res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Resource not found"}');
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ws));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server, workspaces };
}

const coderAuth = (url: string, token = TOKEN, ttl = 60000, negativeTtl = 60000) => `  - name: auth
    config:
      source: coder
      key_secret: ${SECRET}
      coder:
        url: ${url}
        session_token: ${token}
        cache_ttl_ms: ${ttl}
        negative_cache_ttl_ms: ${negativeTtl}
`;

t.test('Coder lookups: running, cached, stopped, unknown', async (t) => {
  const coder = await mockCoder(t);
  const gw = await startGateway(t, config(coderAuth(coder.url)));
  const url = `${gw.url}/v1/echo/v1/messages`;

  t.equal((await post(url, { 'x-workspace-id': RUNNING })).status, 200, 'running workspace admitted');
  const usage = await (await fetch(`${gw.url}/v1/usage`, { headers: { 'x-api-key': makeWorkspaceKey(SECRET, RUNNING) } })).json();
  t.same(usage, { user: 'jsmith', workspace: RUNNING, project: 'ubuntu-dev' }, 'user = owner, project = template');
  t.equal(coder.calls.length, 1, 'second request served from the cache');

  const stopped = await post(url, { 'x-workspace-id': STOPPED });
  t.equal(stopped.status, 403, 'stopped workspace refused');
  t.match(stopped.text, /not running \(stopped\)/);
  t.equal((await post(url, { 'x-workspace-id': 'nope' })).status, 403, 'unknown workspace refused');
  t.equal((await post(url, { 'x-workspace-id': 'nope' })).status, 403, 'negative answer cached');
  t.equal(coder.calls.filter((c) => c.endsWith('/nope')).length, 1);

  const burst = await Promise.all(Array.from({ length: 10 }, () => post(url, { 'x-workspace-id': 'burst-id' })));
  t.ok(burst.every((r) => r.status === 403));
  t.equal(coder.calls.filter((c) => c.endsWith('/burst-id')).length, 1, 'concurrent lookups share one call');
  t.notMatch(JSON.stringify(gw.logs), TOKEN, 'session token never logged');
});

t.test('the cache survives a reload', async (t) => {
  const coder = await mockCoder(t);
  const yaml = config(coderAuth(coder.url));
  const gw = await startGateway(t, yaml);
  const url = `${gw.url}/v1/echo/v1/messages`;
  t.equal((await post(url, { 'x-workspace-id': RUNNING })).status, 200);
  writeFileSync(gw.configPath, yaml + '\n# changed\n');
  const r = await gw.gateway.reload();
  t.ok(r.ok && r.changed, 'reloaded');
  t.equal((await post(url, { 'x-workspace-id': RUNNING })).status, 200);
  t.equal(coder.calls.length, 1, 'no second lookup after the reload');
});

t.test('a TTL of 0 caches nothing: every request asks Coder, so stopping a workspace takes effect at once', async (t) => {
  const coder = await mockCoder(t);
  const gw = await startGateway(t, config(coderAuth(coder.url, TOKEN, 0, 0)));
  const url = `${gw.url}/v1/echo/v1/messages`;
  t.equal((await post(url, { 'x-workspace-id': RUNNING })).status, 200, 'running: admitted');
  t.equal((await post(url, { 'x-workspace-id': RUNNING })).status, 200, 'admitted again');
  coder.workspaces[RUNNING].latest_build.status = 'stopped';
  t.equal((await post(url, { 'x-workspace-id': RUNNING })).status, 403, 'stopped: refused on the next request');
  coder.workspaces[RUNNING].latest_build.status = 'running';
  t.equal((await post(url, { 'x-workspace-id': RUNNING })).status, 200, 'started again: admitted on the next request');
  t.equal(coder.calls.length, 4, 'Coder asked every time');
});

t.test('a reload that lowers the TTLs applies them to answers cached before it', async (t) => {
  const coder = await mockCoder(t);
  const gw = await startGateway(t, config(coderAuth(coder.url, TOKEN, 600_000, 600_000)));
  const url = `${gw.url}/v1/echo/v1/messages`;
  t.equal((await post(url, { 'x-workspace-id': RUNNING })).status, 200);
  t.equal((await post(url, { 'x-workspace-id': STOPPED })).status, 403);
  writeFileSync(gw.configPath, config(coderAuth(coder.url, TOKEN, 100, 100)));
  const r = await gw.gateway.reload();
  t.ok(r.ok && r.changed, 'reloaded with 100 ms TTLs');
  coder.workspaces[RUNNING].latest_build.status = 'stopped';
  coder.workspaces[STOPPED].latest_build.status = 'running';
  await new Promise((resolve) => setTimeout(resolve, 250));
  t.equal((await post(url, { 'x-workspace-id': RUNNING })).status, 403, 'stopped since: refused once the new TTL passed');
  t.equal((await post(url, { 'x-workspace-id': STOPPED })).status, 200, 'started since: admitted once the new negative TTL passed');
  t.equal(coder.calls.length, 4, 'each asked again');
});

t.test('Coder down or refusing the gateway token: 503, never an open door', async (t) => {
  const coder = await mockCoder(t);
  const bad = await startGateway(t, config(coderAuth(coder.url, 'wrong-token')));
  const refused = await post(`${bad.url}/v1/echo/v1/messages`, { 'x-workspace-id': RUNNING });
  t.equal(refused.status, 503, 'Coder answering 401 to the gateway');
  t.equal(JSON.parse(refused.text).error.type, 'api_error', 'Anthropic dialect');
  t.notMatch(refused.text, 'wrong-token');

  await new Promise<void>((r) => coder.server.close(() => r()));
  coder.server.closeAllConnections();
  const gw = await startGateway(t, config(coderAuth(coder.url)));
  const down = await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': RUNNING });
  t.equal(down.status, 503, 'Coder unreachable');
  t.match(down.text, /cannot be reached/);
});
