import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { auditLines, config, messages, post, waitFor } from '../fixtures.js';

const SESSION = '6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f';
const audit = '  - name: audit\n    config: { stdout: false, file: audit.log, flush_interval_ms: 20 }\n';

t.test('attribution from the static map and each session source', async (t) => {
  const gw = await startGateway(t, config(`  - name: auth
  - name: cost
    config:
      session_headers: [x-claude-code-session-id, x-agent-session]
${audit}`));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const ws = { 'x-workspace-id': 'ws-abc123' };
  await post(url, { ...ws, 'x-request-id': 'none' });
  await post(url, { ...ws, 'x-request-id': 'header', 'X-Claude-Code-Session-Id': SESSION });
  await post(url, { ...ws, 'x-request-id': 'metadata' }, messages({ metadata: { user_id: `user_3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e_account_0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e_session_${SESSION}` } }));
  await post(url, { ...ws, 'x-request-id': 'configured', 'x-agent-session': 'run-42' });
  await post(url, { ...ws, 'x-request-id': 'both', 'x-claude-code-session-id': 'from-header', 'x-agent-session': 'second' }, messages({ metadata: { user_id: `user_x_account_y_session_${SESSION}` } }));
  await post(url, { ...ws, 'x-request-id': 'junk', 'x-agent-session': 'has spaces in it' }, messages({ metadata: { user_id: 'plain-user-id' } }));
  await post(url, { 'x-workspace-id': 'ws_under_score', 'x-request-id': 'no-project' });
  await post(url, { ...ws, 'x-request-id': 'unicode' }, messages({ messages: [{ role: 'user', content: 'Résumé ✓ 😀' }], metadata: { user_id: `user_é_account_ü_session_${SESSION}` } }));
  const file = path.join(gw.dir, 'audit.log');
  t.ok(await waitFor(() => auditLines(file).length === 8));
  const by = new Map(auditLines(file).map((l) => [l.request_id, l]));
  t.match(by.get('none'), { user: 'contractor1', workspace: 'ws-abc123', project: 'webide', session: null });
  t.equal(by.get('header')?.session, SESSION, 'X-Claude-Code-Session-Id');
  t.equal(by.get('metadata')?.session, SESSION, 'the session part of metadata.user_id');
  t.equal(by.get('configured')?.session, 'run-42', 'a configured header');
  t.equal(by.get('both')?.session, 'from-header', 'headers first, in configured order');
  t.equal(by.get('junk')?.session, null, 'unprintable header values and user ids without a session are ignored');
  t.match(by.get('no-project'), { user: 'admin', workspace: 'ws_under_score', project: null });
  t.equal(by.get('unicode')?.session, SESSION, 'metadata.user_id in a body outside ASCII');
});

t.test('attribution from a Coder-like identity: template as project', async (t) => {
  const id = '3f4e5c6d-7a8b-9c0d-1e2f-3a4b5c6d7e8f';
  const server = createServer((req, res) => {
    if (req.url === `/api/v2/workspaces/${id}`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, name: 'dev', owner_name: 'jsmith', organization_name: 'acme', template_name: 'ubuntu-dev', latest_build: { status: 'running' } }));
    } else res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const gw = await startGateway(t, config(`  - name: auth
    config:
      source: coder
      coder: { url: "http://127.0.0.1:${(server.address() as AddressInfo).port}", session_token: tok }
  - name: cost
${audit}`));
  await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': id, 'x-claude-code-session-id': SESSION });
  const file = path.join(gw.dir, 'audit.log');
  t.ok(await waitFor(() => auditLines(file).length === 1));
  t.match(auditLines(file)[0], { user: 'jsmith', workspace: id, project: 'ubuntu-dev', session: SESSION, cost_usd: 0 });
});
