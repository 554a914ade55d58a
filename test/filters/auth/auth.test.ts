import { writeFileSync } from 'node:fs';
import t from 'tap';
import { makeWorkspaceKey } from '../../../filters/auth/keys.js';
import { startGateway } from '../../helpers/gateway.js';
import { config, post, SECRET } from '../fixtures.js';

const AUTH = (extra = '') => `  - name: auth
    config:
      key_secret: ${SECRET}
${extra}`;

t.test('static workspaces: header, keys in every accepted place, refusals', async (t) => {
  const gw = await startGateway(t, config(AUTH()));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const key = makeWorkspaceKey(SECRET, 'ws-abc123');

  t.equal((await post(url, { 'x-workspace-id': 'ws-abc123' })).status, 200, 'the seed header');
  t.equal((await post(url, { 'x-api-key': key })).status, 200, 'x-api-key');
  t.equal((await post(url, { authorization: `Bearer ${key}` })).status, 200, 'Authorization: Bearer');
  t.equal((await post(url, { 'x-goog-api-key': key })).status, 200, 'x-goog-api-key');
  t.equal((await post(`${url}?key=${encodeURIComponent(key)}`)).status, 200, '?key=');
  t.equal((await post(url, { 'x-api-key': makeWorkspaceKey(SECRET, 'ws_under_score') })).status, 200, 'id containing _');
  t.equal((await post(url, { 'x-api-key': 'sk-ant-placeholder', 'x-workspace-id': 'ws-abc123' })).status, 200, 'a foreign placeholder key does not get in the way');
  t.equal((await post(url, { 'x-api-key': key, 'x-workspace-id': 'ws-abc123' })).status, 200, 'key and matching header');

  const missing = await post(url);
  t.equal(missing.status, 401, 'no identity');
  t.same(JSON.parse(missing.text).error.type, 'authentication_error', 'rendered in the route dialect (Anthropic)');

  const unknown = await post(url, { 'x-workspace-id': 'ws-nobody' });
  t.equal(unknown.status, 403, 'unknown workspace');
  t.equal(JSON.parse(unknown.text).error.type, 'permission_error');

  t.equal((await post(url, { 'x-api-key': makeWorkspaceKey(SECRET, 'ws-nobody') })).status, 403, 'valid key, unknown workspace');
  t.equal((await post(url, { 'x-api-key': makeWorkspaceKey('some-other-secret-1234567', 'ws-abc123') })).status, 401, 'key from another secret');
  const spoof = await post(url, { 'x-api-key': makeWorkspaceKey(SECRET, 'ws_under_score'), 'x-workspace-id': 'ws-abc123' });
  t.equal(spoof.status, 403, 'header naming another workspace than the key');

  for (const path of ['/health', '/v1/providers', '/metrics', '/v1/echo/health']) {
    t.equal((await fetch(gw.url + path)).status, 200, `${path} needs no identity`);
  }
  t.equal((await fetch(`${gw.url}/v1/usage`)).status, 401, '/v1/usage needs identity');

  const all = JSON.stringify(gw.logs) + missing.text + unknown.text + spoof.text;
  t.notMatch(all, SECRET, 'no secret in logs or error bodies');
  t.notMatch(all, key, 'no workspace key in logs or error bodies');
});

t.test('require_keys refuses header-only identity', async (t) => {
  const gw = await startGateway(t, config(AUTH('      require_keys: true\n')));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const header = await post(url, { 'x-workspace-id': 'ws-abc123' });
  t.equal(header.status, 401);
  t.match(header.text, /workspace key is required/);
  t.equal((await post(url, { 'x-api-key': makeWorkspaceKey(SECRET, 'ws-abc123') })).status, 200);
});

t.test('sets the identity every later filter sees', async (t) => {
  const gw = await startGateway(t, config(AUTH()));
  const res = await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${makeWorkspaceKey(SECRET, 'ws-abc123')}` } });
  t.same(await res.json(), { user: 'contractor1', workspace: 'ws-abc123', project: 'webide' });
});

t.test('bad auth configs are refused at load', async (t) => {
  await t.rejects(startGateway(t, config(`  - name: auth\n    config:\n      require_keys: true\n`)), /key_secret is empty/);
  await t.rejects(startGateway(t, config(`  - name: auth\n    config:\n      key_secret: short\n`)), /at least 16/);
  await t.rejects(startGateway(t, config(`  - name: auth\n    config:\n      source: coder\n`)), /coder/);
  await t.rejects(startGateway(t, config(`  - name: auth\n    config:\n      bogus: 1\n`)), /bogus|additional/);
});

t.test('a key admitted before stays admitted, and rotating key_secret by reload still revokes it', async (t) => {
  const gw = await startGateway(t, config(AUTH()));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const key = makeWorkspaceKey(SECRET, 'ws-abc123');
  for (let i = 0; i < 3; i++) t.equal((await post(url, { 'x-api-key': key })).status, 200, `request ${i + 1} with the same key`);
  const forged = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
  for (let i = 0; i < 2; i++) t.equal((await post(url, { 'x-api-key': forged })).status, 401, `a forged key, attempt ${i + 1}`);

  const rotated = 'a-rotated-secret-0123456789';
  writeFileSync(gw.configPath, config(AUTH()).replace(SECRET, rotated));
  const r = await gw.gateway.reload();
  t.ok(r.ok && r.changed, 'reloaded with the new secret');
  t.equal((await post(url, { 'x-api-key': key })).status, 401, 'the old key, verified before the rotation, is refused');
  t.equal((await post(url, { 'x-api-key': makeWorkspaceKey(rotated, 'ws-abc123') })).status, 200, 'a key of the new secret is admitted');
});

t.test('a key_secret read with a trailing newline signs the keys keygen makes from the trimmed secret', async (t) => {
  const withEnv = `  - name: auth\n    config:\n      key_secret: \${AI_GATEWAY_KEY_SECRET}\n`;
  // As from a mounted file (`$(cat secret)` in a shell strips the newline; env-from-file does not).
  const gw = await startGateway(t, config(withEnv), { env: { AI_GATEWAY_KEY_SECRET: `${SECRET}\n` } });
  const url = `${gw.url}/v1/echo/v1/messages`;
  t.equal((await post(url, { 'x-api-key': makeWorkspaceKey(SECRET, 'ws-abc123') })).status, 200, 'a key of the trimmed secret is admitted');

  await t.rejects(startGateway(t, config(withEnv), { env: { AI_GATEWAY_KEY_SECRET: `  short-secret\n\n\n\n\n` } }), /at least 16/, 'the length is checked after trimming');
  await t.rejects(startGateway(t, config(withEnv), { env: { AI_GATEWAY_KEY_SECRET: ' '.repeat(20) } }), /at least 16/, 'whitespace alone is refused, not taken as "keys disabled"');
});
