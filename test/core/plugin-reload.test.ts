/**
 * A reload imports a plugin's entry file again when its bytes changed, and reuses the module
 * (with its module-level state) when they did not: an edited plugin runs its new code after
 * SIGHUP, and one that failed to import loads once it is fixed. Files the entry imports
 * itself are not compared (README, Hot reload).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A filter stamping `x-p: <stamp>/<module id>`: the id is drawn once per module evaluation. */
const plugin = (stamp: string, extra = ''): string =>
  `${extra}const id = Math.random().toString(36).slice(2);\nexport default { name: 'p', create() { return { onResponse(ctx, head) { head.headers['x-p'] = ${JSON.stringify(stamp)} + '/' + id; } }; } };\n`;
const config = (file: string): string => `server:\n  host: 127.0.0.1\nproviders:\n  echo: {}\nfilters:\n  - name: p\n    plugin: ./${file}\n`;

async function stamp(url: string): Promise<{ stamp: string; id: string }> {
  const res = await fetch(`${url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  await res.arrayBuffer();
  const [s, id] = (res.headers.get('x-p') ?? '/').split('/');
  return { stamp: s, id };
}

t.test('a forced reload (SIGHUP) runs an edited plugin; an unchanged one keeps its module', async (t) => {
  const dir = tempDir('gw-plugin-reload-');
  writeFileSync(path.join(dir, 'p.mjs'), plugin('v1'));
  const g = await startGateway(t, config('p.mjs'), { dir });
  const first = await stamp(g.url);
  t.equal(first.stamp, 'v1');
  t.match(await g.gateway.reload({ force: true }), { ok: true, changed: true });
  t.same(await stamp(g.url), first, 'unchanged file: the same module, its state kept');
  writeFileSync(path.join(dir, 'p.mjs'), plugin('v2'));
  t.match(await g.gateway.reload({ force: true }), { ok: true, changed: true });
  const second = await stamp(g.url);
  t.equal(second.stamp, 'v2', 'the edited code runs');
  t.not(second.id, first.id, 'in a module evaluated anew');
  writeFileSync(path.join(dir, 'p.mjs'), plugin('v1'));
  t.match(await g.gateway.reload({ force: true }), { ok: true, changed: true });
  t.same(await stamp(g.url), first, 'back to the first bytes: the first module again');
});

t.test('a plugin that failed to import loads once its file is fixed', async (t) => {
  const dir = tempDir('gw-plugin-reload-');
  writeFileSync(path.join(dir, 'p.mjs'), plugin('v1'));
  const g = await startGateway(t, config('p.mjs'), { dir });
  writeFileSync(path.join(dir, 'q.mjs'), "throw new Error('boom at import');\n");
  writeFileSync(g.configPath, config('q.mjs'));
  const broken = await g.gateway.reload();
  t.equal(broken.ok, false, 'the broken plugin fails its reload');
  t.match(!broken.ok && broken.error.issues[0].message, /cannot import plugin "\.\/q\.mjs": boom at import/);
  writeFileSync(path.join(dir, 'q.mjs'), plugin('q-fixed'));
  const fixed = await g.gateway.reload({ force: true });
  t.equal(fixed.ok, true, `the fixed plugin loads${fixed.ok ? '' : `: ${fixed.error.message}`}`);
  t.equal((await stamp(g.url)).stamp, 'q-fixed', 'and serves');
});

t.test("only the entry file is compared: a helper it imports keeps its first version", async (t) => {
  const dir = tempDir('gw-plugin-reload-');
  writeFileSync(path.join(dir, 'helper.mjs'), "export const word = 'h1';\n");
  const entry = (stamp: string) => plugin(stamp, "import { word } from './helper.mjs';\n").replace(`${JSON.stringify(stamp)} + '/'`, `${JSON.stringify(stamp)} + '-' + word + '/'`);
  writeFileSync(path.join(dir, 'p.mjs'), entry('v1'));
  const g = await startGateway(t, config('p.mjs'), { dir });
  t.equal((await stamp(g.url)).stamp, 'v1-h1');
  writeFileSync(path.join(dir, 'helper.mjs'), "export const word = 'h2';\n");
  await g.gateway.reload({ force: true });
  t.equal((await stamp(g.url)).stamp, 'v1-h1', 'a helper edited alone is not seen');
  writeFileSync(path.join(dir, 'p.mjs'), entry('v2'));
  await g.gateway.reload({ force: true });
  t.equal((await stamp(g.url)).stamp, 'v2-h1', 'nor once the entry changes: the helper is cached by its own URL');
});
