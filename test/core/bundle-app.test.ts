/**
 * The built gateway runs from its bundle (core/build/bundle-app.ts): the tsc entry files
 * are stubs loading dist/app/gateway.cjs (with its code cache), the package entry exports
 * the API's names, the paths the bundle finds through `import.meta.url` name real files, a
 * plugin importing `ai-gateway` shares the running gateway's modules, and bundling twice
 * without tsc in between is refused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import * as sourceApi from '../../core/index.js';
import { APP_BUNDLE, BUNDLED_MARKER, bundleApp, CLI_COMMAND } from '../../core/build/bundle-app.js';
import { waitFor } from '../helpers/live.js';
import { freePort } from '../helpers/ports.js';
import { repoRoot, startCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const dist = path.join(repoRoot, 'dist');
const app = path.join(dist, 'app');
const bundle = path.join(app, APP_BUNDLE);
/** tap runs tests with --enable-source-maps in NODE_OPTIONS, which children would inherit. */
const plainEnv = { ...process.env, NODE_OPTIONS: '' };

t.test('the command and the tsc entry files are stubs that load the bundle', async (t) => {
  const command = readFileSync(path.join(dist, CLI_COMMAND), 'utf8');
  t.ok(command.startsWith('#!/usr/bin/env node\n'), 'the command has a shebang');
  t.match(command, BUNDLED_MARKER);
  t.match(command, "require('../app/load.cjs').runCli(process.argv.slice(2))", 'CommonJS: no ES module loader before the bundle');
  t.equal(statSync(path.join(dist, CLI_COMMAND)).mode & 0o111, 0o111, 'executable');
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
  t.equal(pkg.bin['ai-gateway'], `dist/${CLI_COMMAND}`, "the package's bin is that command");
  t.match(pkg.scripts.start, `dist/${CLI_COMMAND}`, 'and so is npm start');
  const bin = readFileSync(path.join(dist, 'bin/ai-gateway.js'), 'utf8');
  t.ok(bin.startsWith('#!/usr/bin/env node\n'), 'the ES module command keeps its shebang');
  t.match(bin, BUNDLED_MARKER);
  t.match(bin, "import { app } from '../app/load.js'");
  t.match(bin, 'app.runCli(process.argv.slice(2))');
  t.match(readFileSync(path.join(dist, 'core/index.js'), 'utf8'), "import { app } from '../app/load.js'");
  t.match(readFileSync(path.join(app, 'load.js'), 'utf8'), "import app from './load.cjs'", 'one loader for both');
  t.ok(existsSync(bundle) && existsSync(path.join(app, 'load.cjs')) && existsSync(path.join(app, 'code-cache.cjs')), 'the bundle and its loader were written');
  t.notOk(existsSync(path.join(dist, 'bin/ai-gateway.js.map')), "tsc's map of the replaced file is gone");
  const map = JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] };
  t.ok(map.sources.includes('../../bin/cli.ts') && map.sources.includes('../../core/index.ts'), "the bundle's map leads through tsc's to the TypeScript sources");
});

t.test('the package entry exports the API the sources export, and nothing of the loader', async (t) => {
  const built = (await import(pathToFileURL(path.join(dist, 'core/index.js')).href)) as Record<string, unknown>;
  t.same(Object.keys(built).sort(), Object.keys(sourceApi).sort());
  t.equal(typeof built.Gateway, 'function');
});

t.test("every module's own import.meta.url names its tsc file, relative to the bundle", async (t) => {
  const source = readFileSync(bundle, 'utf8');
  t.notMatch(source, /import\.meta\.url/, 'no import.meta.url left in the bundle (CommonJS has none)');
  let seen = 0;
  for (const [, rel] of source.matchAll(/__gwMetaUrl\("([^"]+)"\)/g)) {
    seen++;
    const target = path.join(app, rel);
    t.ok(existsSync(target) && target.startsWith(dist + path.sep), `${rel} exists in dist`);
  }
  // ajv's precompiled validators, the price snapshots, the package root, pool, sigv4, smithy, …
  t.ok(seen >= 8, `found ${seen} rewritten URLs`);
});

t.test('the bundle loads with the code cache the build wrote', async (t) => {
  const script = `
    await import(${JSON.stringify(pathToFileURL(path.join(dist, 'core/index.js')).href)});
    const { codeCacheUse } = await import(${JSON.stringify(pathToFileURL(path.join(dist, 'core/deps/code-cache.js')).href)});
    console.log(JSON.stringify(Object.fromEntries(codeCacheUse())));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, env: plainEnv });
  t.equal(r.status, 0, r.stderr);
  const use = JSON.parse(r.stdout) as Record<string, string>;
  t.equal(use[bundle], 'used', 'gateway.cjs: its cache was used');
  t.ok(Object.keys(use).some((f) => f.endsWith('/dist/vendor/yaml.cjs')), "the bundle's own copy of the loader records into the same registry");
});

t.test('the CommonJS loader loads the bundle with its cache; both commands run', async (t) => {
  const script = `require(${JSON.stringify(path.join(app, 'load.cjs'))}); console.log(JSON.stringify(Object.fromEntries(require(${JSON.stringify(path.join(app, 'code-cache.cjs'))}).codeCacheUse())));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000, env: plainEnv });
  t.equal(r.status, 0, r.stderr);
  t.equal((JSON.parse(r.stdout) as Record<string, string>)[bundle], 'used', 'gateway.cjs: its cache was used');
  for (const command of [CLI_COMMAND, 'bin/ai-gateway.js']) {
    const v = spawnSync(process.execPath, [path.join(dist, command), 'validate', path.join(repoRoot, 'configs/config.yaml')], { encoding: 'utf8', timeout: 20_000, env: plainEnv });
    t.equal(v.stdout.trim(), 'ok', `${command} validate: ${v.stderr}`);
  }
});

t.test('with --enable-source-maps, stack traces through the bundle name the TypeScript lines', async (t) => {
  // formatIssue(null) throws inside the bundle.
  const script = `
    const api = await import(${JSON.stringify(pathToFileURL(path.join(dist, 'core/index.js')).href)});
    try { api.formatIssue(null); } catch (err) { console.log(err.stack); }`;
  const mapped = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, env: plainEnv });
  t.match(mapped.stdout, /at .*formatIssue .*core\/config\/issues\.ts:\d+:\d+/, 'the frame names issues.ts');
  const plain = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, env: plainEnv });
  t.match(plain.stdout, /dist\/app\/gateway\.cjs:\d+:\d+/, 'without the flag, the bundle (loaded with its cache) is named');
});

t.test('a plugin importing ai-gateway shares the running gateway’s modules', async (t) => {
  const dir = tempDir('gw-bundle-');
  const file = path.join(dir, 'config.yaml');
  const plugin = path.join(repoRoot, 'test/fixtures/plugins/shared-core.js');
  writeFileSync(file, `providers:\n  echo: {}\nfilters:\n  - name: rate-limit\n  - name: shared-core\n    plugin: ${plugin}\n`);
  const port = await freePort();
  const gw = await startCli(['--config', file], { AI_GATEWAY_PORT: String(port) });
  t.teardown(() => gw.child.kill('SIGKILL'));
  const res = await fetch(`http://127.0.0.1:${port}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-bundle' }, body: '{}' });
  t.equal(res.status, 200);
  t.same(await res.json(), { sameModules: true }, "the rate-limit filter's store is the plugin's MemoryStore");
  gw.child.kill('SIGTERM');
  t.equal(await gw.exited, 0);
});

t.test('from the bundle, SIGHUP after an edit runs the plugin\'s new code', async (t) => {
  const dir = tempDir('gw-bundle-');
  const plugin = (stamp: string) => `export default { name: 'p', create() { return { onResponse(ctx, head) { head.headers['x-p'] = '${stamp}'; } }; } };\n`;
  writeFileSync(path.join(dir, 'p.mjs'), plugin('v1'));
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, 'server:\n  host: 127.0.0.1\nproviders:\n  echo: {}\nfilters:\n  - name: p\n    plugin: ./p.mjs\n');
  const port = await freePort();
  const gw = await startCli(['--config', file], { AI_GATEWAY_PORT: String(port) });
  t.teardown(() => gw.child.kill('SIGKILL'));
  const stamp = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await res.arrayBuffer();
    return res.headers.get('x-p');
  };
  t.equal(await stamp(), 'v1');
  writeFileSync(path.join(dir, 'p.mjs'), plugin('v2'));
  gw.child.kill('SIGHUP');
  t.equal(await waitFor(async () => ((await stamp()) === 'v2' ? 'v2' : undefined), 10_000), 'v2', 'the edited plugin serves');
  gw.child.kill('SIGTERM');
  t.equal(await gw.exited, 0);
});

t.test("the README's plugin example, beside a config outside the checkout, runs on the bundle's modules", async (t) => {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const example = /## Writing a plugin\n[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  t.match(example, "import { GatewayError } from 'ai-gateway';", 'the example imports the package by name');
  const dir = tempDir('gw-bundle-'); // no node_modules above it
  writeFileSync(path.join(dir, 'stamp.mjs'), example!);
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, 'server:\n  host: 127.0.0.1\nproviders:\n  echo: {}\nfilters:\n  - name: stamp\n    plugin: ./stamp.mjs\n    config: { value: team-a }\n');
  const v = spawnSync(process.execPath, [path.join(dist, CLI_COMMAND), 'validate', file], { encoding: 'utf8', timeout: 20_000, env: plainEnv });
  t.equal(v.stdout, 'ok\n', `validate: ${v.stderr}`);
  const port = await freePort();
  const gw = await startCli(['--config', file], { AI_GATEWAY_PORT: String(port) });
  t.teardown(() => gw.child.kill('SIGKILL'));
  const post = (headers: Record<string, string>) => fetch(`http://127.0.0.1:${port}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'echo-1', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }) });
  const served = await post({ 'x-team': 't1' });
  await served.arrayBuffer();
  t.equal(served.status, 200);
  t.equal(served.headers.get('x-stamp'), 'team-a');
  const refused = await post({});
  t.equal(refused.status, 401, "its GatewayError is the gateway's class, rendered as such");
  t.match(await refused.text(), /"type":"authentication_error"/, 'in the route\'s dialect');
  gw.child.kill('SIGTERM');
  t.equal(await gw.exited, 0);
});

t.test('bundling stubs again is refused with what to do', async (t) => {
  const fake = tempDir('gw-bundle-dist-');
  for (const sub of ['bin', 'core']) mkdirSync(path.join(fake, sub));
  writeFileSync(path.join(fake, 'bin/ai-gateway.js'), readFileSync(path.join(dist, 'bin/ai-gateway.js')));
  writeFileSync(path.join(fake, 'core/index.js'), 'export const x = 1;\n');
  await t.rejects(bundleApp(fake), /already a bundle stub: run tsc/);
  t.notOk(existsSync(path.join(fake, 'app')), 'nothing was written');
});

