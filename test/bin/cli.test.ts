import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { call, messages } from '../helpers/http.js';
import { cliPath, repoRoot, runCli, startCli } from '../helpers/process.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('gw-cli-');

t.test('validate prints ok for the embedded config', async (t) => {
  const r = runCli(['validate', path.join(repoRoot, 'configs/config.yaml')]);
  t.equal(r.status, 0);
  t.equal(r.stdout, 'ok\n');
});

t.test('validate prints every error with file, line and key path, and exits non-zero', async (t) => {
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(file, 'server:\n  port: 8090\n  prot: 1\n  host: [x]\n');
  const r = runCli(['validate', file]);
  t.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 2);
  t.ok(lines.includes(`${file}:3:3: server.prot: unknown key "prot"`), r.stderr);
  t.ok(lines.some((l) => l.startsWith(`${file}:4:`) && l.includes('server.host: must be string')), r.stderr);
});

t.test('validate reports plugin config errors', async (t) => {
  const file = path.join(dir, 'bad-plugin.yaml');
  writeFileSync(file, 'providers:\n  echo:\n    stream_delay_ms: -5\nfilters:\n  - name: no-such-filter\n');
  const r = runCli(['validate', file]);
  t.equal(r.status, 1);
  t.match(r.stderr, `${file}:3:22: providers.echo.stream_delay_ms: must be >= 0`);
  t.match(r.stderr, /filters\[0\]\.name: unknown filter "no-such-filter"/);
});

t.test('validate reports schema and plugin errors together', async (t) => {
  const file = path.join(dir, 'both.yaml');
  writeFileSync(file, 'server:\n  prot: 1\nproviders:\n  echo:\n    colour: red\n');
  const r = runCli(['validate', file]);
  t.equal(r.status, 1);
  t.match(r.stderr, `${file}:2:3: server.prot: unknown key "prot"`);
  t.match(r.stderr, `${file}:5:5: providers.echo.colour: unknown key "colour"`);
});

t.test('validate refuses a config with no content', async (t) => {
  const file = path.join(dir, 'empty.yaml');
  writeFileSync(file, '# nothing here yet\n');
  const r = runCli(['validate', file]);
  t.equal(r.status, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, `${file}: the config file is empty (nothing but blank lines or comments)\n`);
});

t.test('validate reports an alias bomb as file:line:column', async (t) => {
  const file = path.join(dir, 'bomb.yaml');
  const rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [prev, name] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) rows.push(`${name}: &${name} [${Array(9).fill('*' + prev).join(',')}]`);
  writeFileSync(file, rows.join('\n') + '\n');
  const r = runCli(['validate', file]);
  t.equal(r.status, 1);
  t.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:8: YAML: Excessive alias count`), r.stderr);
});

t.test('validate checks every file it is given', async (t) => {
  const good = path.join(dir, 'good-1.yaml');
  const also = path.join(dir, 'good-2.yaml');
  const bad = path.join(dir, 'bad-2.yaml');
  writeFileSync(good, 'providers:\n  echo: {}\n');
  writeFileSync(also, 'providers:\n  echo: { models: [e-2] }\n');
  writeFileSync(bad, 'server:\n  bogus: 1\n');
  const mixed = runCli(['validate', good, bad, also]);
  t.equal(mixed.status, 1, 'a later file with an error fails the run');
  t.equal(mixed.stdout, `${good}: ok\n${also}: ok\n`);
  t.equal(mixed.stderr, `${bad}:2:3: server.bogus: unknown key "bogus"\n`);
  const fine = runCli(['validate', good, also]);
  t.equal(fine.status, 0);
  t.equal(fine.stdout, `${good}: ok\n${also}: ok\n`);
});

t.test('an unknown verb is an error with usage', async (t) => {
  const r = runCli(['frobnicate']);
  t.equal(r.status, 2);
  t.match(r.stderr, /unknown command "frobnicate"/);
  t.match(r.stderr, /Usage:/);
  const flag = runCli(['--no-such-flag']);
  t.equal(flag.status, 2);
  t.match(flag.stderr, /Usage:/);
});

t.test('--version and --help', async (t) => {
  t.match(runCli(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
  t.match(runCli(['--help']).stdout, /ai-gateway validate/);
});

t.test('a reader that stops early (| head) ends a command quietly, not with an EPIPE stack', async (t) => {
  for (const args of [['--help'], ['validate', path.join(repoRoot, 'configs/config.yaml')], ['--version']]) {
    const child = spawn(process.execPath, [cliPath, ...args], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the pipe's reader is gone before the first write
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    t.notMatch(err, /EPIPE|Unhandled 'error' event/, `${args.join(' ')}: no stack`);
    t.not(code, null, `${args.join(' ')}: exits`);
  }
});

t.test('starts on the embedded config at AI_GATEWAY_PORT, serves echo, stops cleanly on SIGTERM', async (t) => {
  const port = await freePort();
  const gw = await startCli([], { AI_GATEWAY_PORT: String(port) });
  t.teardown(() => gw.child.kill('SIGKILL'));
  const health = await call(`http://127.0.0.1:${port}/health`);
  t.equal(health.status, 200);
  const res = await call(`http://127.0.0.1:${port}/v1/echo/v1/messages`, { body: messages('fresh clone'), headers: { 'x-workspace-id': 'ws-abc123' } });
  t.equal(res.status, 200);
  gw.child.kill('SIGTERM');
  t.equal(await gw.exited, 0);
});

t.test('a broken config refuses to start with the errors', async (t) => {
  const file = path.join(dir, 'broken.yaml');
  writeFileSync(file, 'server:\n  port: nope\n');
  const r = runCli(['--config', file]);
  t.equal(r.status, 1);
  t.match(r.stderr, `${file}:2:9: server.port: must be integer`);
});

t.test('a refused start does not print a provider key its plugin error quotes', async (t) => {
  const key = 'sk-live-CLIREFUSE-0123456789';
  const plugin = `export default {
  name: 'keyed', defaultPrefix: '/v1/keyed',
  configSchema: { type: 'object', properties: { api_key: { type: 'string' } } },
  create(c) { throw new Error('api_key ' + c.api_key + ' is not valid here'); },
};
`;
  writeFileSync(path.join(dir, 'keyed.mjs'), plugin);
  const file = path.join(dir, 'keyed.yaml');
  writeFileSync(file, 'providers:\n  keyed:\n    plugin: ./keyed.mjs\n    api_key: ${KEYED_API_KEY}\n');
  const r = runCli(['--config', file], { KEYED_API_KEY: key });
  t.equal(r.status, 1);
  t.match(r.stderr, 'api_key *** is not valid here', r.stderr);
  t.notMatch(r.stderr, key);
});

t.test('a port already in use is a clear runtime error, not a usage error', async (t) => {
  const { createServer } = await import('node:net');
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', resolve));
  t.teardown(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const r = runCli([], { AI_GATEWAY_PORT: String(port) });
  t.equal(r.status, 1);
  t.match(r.stderr, /EADDRINUSE.*another process holds the port/);
  t.notMatch(r.stderr, /Usage:/);
});

t.test('an AI_GATEWAY_PORT that is not a port number refuses to start, naming the variable', async (t) => {
  // A blank value included: the embedded config's ${AI_GATEWAY_PORT:-8090} would read it as port 0.
  for (const value of [' ', 'abc', '99999']) {
    const r = runCli([], { AI_GATEWAY_PORT: value });
    t.equal(r.status, 1, JSON.stringify(value));
    t.equal(r.stderr, `ai-gateway: AI_GATEWAY_PORT must be a port number from 0 to 65535 (or empty for server.port), not ${JSON.stringify(value)}\n`);
  }
});

t.test('AI_GATEWAY_CONFIG names the config file', async (t) => {
  const file = path.join(dir, 'env.yaml');
  writeFileSync(file, 'providers:\n  echo:\n    models: [from-env-config]\n');
  const port = await freePort();
  const gw = await startCli([], { AI_GATEWAY_PORT: String(port), AI_GATEWAY_CONFIG: file });
  t.teardown(() => gw.child.kill('SIGKILL'));
  const list = await call(`http://127.0.0.1:${port}/v1/providers`);
  t.same(list.json<{ providers: Array<{ models: string[] }> }>().providers[0].models, ['from-env-config']);
  gw.child.kill('SIGTERM');
  t.equal(await gw.exited, 0);
});
