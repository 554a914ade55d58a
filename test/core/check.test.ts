/**
 * checkStartable (`ai-gateway validate`): refuses what start-up refuses — a create() that
 * throws, unreadable certificate files — and opens nothing while it builds: no upstream,
 * store or ledger connection, no audit or ledger file.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { checkStartable, NO_CONNECTIONS } from '../../core/check.js';
import { ConfigError, type ConfigIssue } from '../../core/config/issues.js';
import { loadConfigFile } from '../../core/config/load.js';
import { builtinCatalog } from '../../bin/catalog.js';
import { writeConfig } from '../helpers/gateway.js';
import { tempDir } from '../helpers/temp-dir.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function check(yaml: string, dir = tempDir('gw-check-')): Promise<ConfigIssue[]> {
  const { file } = writeConfig(yaml, dir);
  try {
    await checkStartable(loadConfigFile(file, {}), builtinCatalog, 2000);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}

/** A TCP listener on loopback that counts the connections made to it. */
async function listener(t: Test): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const server = net.createServer((socket) => {
    n++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as net.AddressInfo).port, connections: () => n };
}

t.test('a create() that throws is reported at its entry', async (t) => {
  const auth = await check('providers:\n  echo: {}\nfilters:\n  - name: auth\n    config: { require_keys: true }\n');
  t.match(auth, [{ path: 'filters[0]', line: 4, message: /filter "auth": create\(\) failed: require_keys is true but key_secret is empty/ }]);
  const ollama = await check(`providers:\n  ollama:\n    plugin: ${path.join(repo, 'examples/plugins/ollama/index.js')}\n    base_url: http://user:pw@127.0.0.1:11434\n    models: [llama3.2]\n`);
  t.match(ollama, [{ path: 'providers.ollama', line: 3, message: /base_url must not carry a query or credentials/ }]);
});

t.test('certificate files that cannot be read are reported, with the plugin errors', async (t) => {
  const issues = await check('server:\n  tls: { cert_file: missing.crt, key_file: missing.key }\nproviders:\n  echo: {}\nfilters:\n  - name: auth\n    config: { require_keys: true }\n');
  t.match(issues, [
    { path: 'server.tls.cert_file', line: 2, message: /cannot read .*missing\.crt: ENOENT/ },
    { path: 'server.tls.key_file', line: 2, message: /cannot read .*missing\.key: ENOENT/ },
    { path: 'filters[0]' },
  ]);
});

t.test('a sound config passes, and checking it opens no connection and writes no file', async (t) => {
  const upstream = await listener(t);
  const redis = await listener(t);
  const dir = tempDir('gw-check-');
  const issues = await check(
    [
      'store:',
      '  type: redis',
      `  redis: { url: "redis://127.0.0.1:${redis.port}" }`,
      'providers:',
      `  anthropic: { api_key: k, base_url: "http://127.0.0.1:${upstream.port}" }`,
      `  openai: { api_key: k, base_url: "http://127.0.0.1:${upstream.port}" }`,
      '  ollama:',
      `    plugin: ${path.join(repo, 'examples/plugins/ollama/index.js')}`,
      `    base_url: http://127.0.0.1:${upstream.port}`,
      '    models: [llama3.2]',
      'filters:',
      '  - name: auth',
      '  - name: cost',
      '    config: { ledger: { type: sqlite, dir: ./data } }',
      '  - name: rate-limit',
      '  - name: budget',
      '  - name: audit',
      '    config: { stdout: false, file: logs/audit.log }',
      '',
    ].join('\n'),
    dir,
  );
  t.same(issues, []);
  t.same(readdirSync(dir), ['config.yaml'], 'no audit log, no ledger file, no folder for them');
  t.notOk(existsSync(path.join(dir, 'data')));
  t.equal(upstream.connections(), 0, 'no upstream connection');
  t.equal(redis.connections(), 0, 'no Redis connection');
});

t.test("a plugin that calls its upstream in create() is refused a connection, and told why", async (t) => {
  const upstream = await listener(t);
  const dir = tempDir('gw-check-');
  writeFileSync(
    path.join(dir, 'eager.mjs'),
    `export default { name: 'eager', async create(config, env) {
      if (!env.validating) throw new Error('env.validating is not set');
      await env.upstream('http://127.0.0.1:${upstream.port}').request({ method: 'GET', path: '/warm-up' });
      return {};
    } };\n`,
  );
  const issues = await check('providers:\n  echo: {}\nfilters:\n  - name: eager\n    plugin: ./eager.mjs\n', dir);
  t.match(issues, [{ path: 'filters[0]', message: `filter "eager": create() failed: ${NO_CONNECTIONS}` }]);
  t.equal(upstream.connections(), 0);
});
