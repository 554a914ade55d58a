/**
 * The built gateway runs from its bundle (core/build/bundle-app.ts): the tsc entry files
 * are stubs importing dist/app, the paths the bundle finds through `import.meta.url` name
 * real files, a plugin importing `ai-gateway` shares the running gateway's modules, and
 * bundling twice without tsc in between is refused.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { BUNDLED_MARKER, bundleApp } from '../../core/build/bundle-app.js';
import { freePort } from '../helpers/ports.js';
import { repoRoot, startCli } from '../helpers/process.js';

const dist = path.join(repoRoot, 'dist');
const app = path.join(dist, 'app');

t.test('the tsc entry files are stubs that import the bundle', async (t) => {
  const bin = readFileSync(path.join(dist, 'bin/ai-gateway.js'), 'utf8');
  t.ok(bin.startsWith('#!/usr/bin/env node\n'), 'the command keeps its shebang');
  t.match(bin, BUNDLED_MARKER);
  t.match(bin, "import '../app/ai-gateway.js'");
  t.match(readFileSync(path.join(dist, 'core/index.js'), 'utf8'), "export * from '../app/index.js'");
  t.ok(existsSync(path.join(app, 'ai-gateway.js')) && existsSync(path.join(app, 'index.js')), 'both entries were written');
  t.notOk(existsSync(path.join(dist, 'bin/ai-gateway.js.map')), "tsc's map of the replaced file is gone");
  const map = JSON.parse(readFileSync(path.join(app, 'ai-gateway.js.map'), 'utf8')) as { sources: string[] };
  t.ok(map.sources.includes('../../bin/ai-gateway.ts'), "the bundle's map leads through tsc's to the TypeScript source");
});

t.test("every module's own import.meta.url names its tsc file, relative to the bundle", async (t) => {
  const rewritten = /new URL\("([^"]+)", import\.meta\.url\)/g;
  let seen = 0;
  for (const file of readdirSync(app).filter((f) => f.endsWith('.js'))) {
    const source = readFileSync(path.join(app, file), 'utf8');
    t.notMatch(source, /(?<!new URL\("[^"]+", )import\.meta\.url(?!\)\.href)/, `${file}: no import.meta.url left unrewritten`);
    for (const [, rel] of source.matchAll(rewritten)) {
      seen++;
      const target = fileURLToPath(new URL(rel, `file://${app}/`));
      t.ok(existsSync(target) && target.startsWith(dist + path.sep), `${file}: ${rel} exists in dist`);
    }
  }
  // ajv's precompiled validators, the price snapshots, the package root, pool, sigv4, smithy, …
  t.ok(seen >= 8, `found ${seen} rewritten URLs`);
});

t.test('a plugin importing ai-gateway shares the running gateway’s modules', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-bundle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
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

t.test('bundling stubs again is refused with what to do', async (t) => {
  const fake = mkdtempSync(path.join(tmpdir(), 'gw-bundle-dist-'));
  t.teardown(() => rmSync(fake, { recursive: true, force: true }));
  for (const sub of ['bin', 'core']) mkdirSync(path.join(fake, sub));
  writeFileSync(path.join(fake, 'bin/ai-gateway.js'), readFileSync(path.join(dist, 'bin/ai-gateway.js')));
  writeFileSync(path.join(fake, 'core/index.js'), 'export const x = 1;\n');
  await t.rejects(bundleApp(fake), /already a bundle stub: run tsc/);
  t.notOk(existsSync(path.join(fake, 'app')), 'nothing was written');
});
