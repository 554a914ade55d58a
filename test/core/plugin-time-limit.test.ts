/**
 * A plugin's import and its create() have a time limit (AI_GATEWAY_PLUGIN_TIMEOUT_MS, 300 ms
 * here): one that never settles fails the reload, the start or the check that meets it,
 * naming the plugin and the limit, instead of holding back every later reload; what a
 * create() gives after the limit is closed.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { ConfigError } from '../../core/index.js';
import { PLUGIN_TIME_LIMIT_MS, pluginTimeLimit } from '../../core/plugins.js';
import { startGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/live.js';
import { tempDir } from '../helpers/temp-dir.js';

const env = { AI_GATEWAY_PLUGIN_TIMEOUT_MS: '300' };
const config = (models: string, filters = ''): string => `server:\n  host: 127.0.0.1\nproviders:\n  echo: { models: [${models}] }\n${filters}`;
const hung = (file: string): string => `filters:\n  - name: h\n    plugin: ./${file}\n`;

/** `p`, or `undefined` when it has not settled within `ms`. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | undefined> => Promise.race([p, sleep(ms).then(() => undefined)]);

async function models(url: string): Promise<string[]> {
  const body = (await (await fetch(`${url}/v1/providers`)).json()) as { providers: Array<{ name: string; models: string[] }> };
  return body.providers.find((p) => p.name === 'echo')!.models;
}

const PLUGINS = {
  'import never finishes (a top-level await)': {
    code: "await new Promise(() => {});\nexport default { name: 'h', create() { return {}; } };\n",
    path: 'filters[0].plugin',
    message: /cannot import plugin "\.\/hang\.mjs": its import did not finish within 300 ms .*AI_GATEWAY_PLUGIN_TIMEOUT_MS/,
  },
  'create() never settles': {
    code: "export default { name: 'h', create() { return new Promise(() => {}); } };\n",
    path: 'filters[0]',
    message: /filter "h": create\(\) did not finish within 300 ms; AI_GATEWAY_PLUGIN_TIMEOUT_MS sets the limit/,
  },
};

for (const [what, plugin] of Object.entries(PLUGINS)) {
  t.test(`a plugin whose ${what} fails its reload; later reloads go on`, async (t) => {
    const dir = tempDir('gw-hung-');
    writeFileSync(path.join(dir, 'hang.mjs'), plugin.code);
    const g = await startGateway(t, config('a'), { dir, env });
    writeFileSync(g.configPath, config('b', hung('hang.mjs')));
    const first = await within(g.gateway.reload(), 5000);
    t.ok(first, 'the reload that meets the plugin ends');
    t.equal(first?.ok, false, 'and fails');
    const issues = first && !first.ok ? first.error.issues : [];
    t.same(issues.map((i) => i.path), [plugin.path], 'at the entry');
    t.match(issues[0]?.message, plugin.message, 'naming the plugin and the limit');
    t.ok(g.logs.some((l) => l.msg === 'config reload failed; still serving the previous config'), 'the failure is logged');
    t.same(await models(g.url), ['a'], 'the previous config still serves');
    writeFileSync(g.configPath, config('c'));
    const second = await within(g.gateway.reload({ force: true }), 5000);
    t.match(second, { ok: true, changed: true }, 'a later reload (SIGHUP) is not held back');
    t.same(await models(g.url), ['c'], 'the fixed config serves');
  });

  t.test(`a plugin whose ${what} fails the start`, async (t) => {
    const dir = tempDir('gw-hung-');
    writeFileSync(path.join(dir, 'hang.mjs'), plugin.code);
    const err = await within(startGateway(t, config('a', hung('hang.mjs')), { dir, env }).catch((e: unknown) => e), 5000);
    t.ok(err instanceof ConfigError, 'the start is refused with a ConfigError');
    t.match((err as ConfigError).issues, [{ path: plugin.path, message: plugin.message }]);
  });
}

t.test('an import still hung from an earlier reload fails the next one at once; an edited file is imported again', async (t) => {
  const dir = tempDir('gw-hung-again-');
  const slow = { AI_GATEWAY_PLUGIN_TIMEOUT_MS: '2000' };
  writeFileSync(path.join(dir, 'hang.mjs'), "await new Promise(() => {});\nexport default { name: 'h', create() { return {}; } };\n");
  const g = await startGateway(t, config('a'), { dir, env: slow });
  writeFileSync(g.configPath, config('b', hung('hang.mjs')));
  let started = Date.now();
  const first = await g.gateway.reload();
  t.ok(Date.now() - started >= 2000, 'the first reload waits the limit');
  const firstMessage = !first.ok ? first.error.issues[0]?.message : undefined;
  t.match(firstMessage, /cannot import plugin "\.\/hang\.mjs": its import did not finish within 2000 ms/);

  started = Date.now();
  const second = await g.gateway.reload({ force: true });
  const tookMs = Date.now() - started;
  t.ok(tookMs < 1000, `the same hung file fails the next reload at once (${tookMs} ms)`);
  t.same(!second.ok ? second.error.issues.map((i) => [i.path, i.message]) : [], [['filters[0].plugin', firstMessage]], 'with the same error at the same entry');

  writeFileSync(path.join(dir, 'hang.mjs'), "export default { name: 'h', create() { return {}; } };\n");
  t.match(await g.gateway.reload({ force: true }), { ok: true, changed: true }, 'the file, edited, is imported again and serves');
  t.same(await models(g.url), ['b']);
});

t.test('an import that settles after the limit is used by the next reload', async (t) => {
  const dir = tempDir('gw-slow-import-');
  // Settles 800 ms in, past the 300 ms limit; says on a global that its code ran.
  writeFileSync(path.join(dir, 'slow.mjs'), "await new Promise((r) => setTimeout(r, 800));\nglobalThis.slowImported = true;\nexport default { name: 'h', create() { return {}; } };\n");
  const g = await startGateway(t, config('a'), { dir, env });
  writeFileSync(g.configPath, config('b', hung('slow.mjs')));
  t.equal((await g.gateway.reload()).ok, false, 'the reload that meets it fails at the limit');
  t.ok(await waitFor(() => (globalThis as { slowImported?: boolean }).slowImported === true, 5000), 'the import settles later');
  t.match(await g.gateway.reload({ force: true }), { ok: true, changed: true }, 'the next reload takes the settled module');
  t.same(await models(g.url), ['b']);
});

t.test('a create() that finishes after the limit has what it made closed, and logged', async (t) => {
  const dir = tempDir('gw-late-');
  // Resolves 600 ms in, twice the limit; says on a global when it is closed.
  writeFileSync(path.join(dir, 'late.mjs'), "export default { name: 'late', create() { return new Promise((r) => setTimeout(() => r({ close() { globalThis.lateClosed = (globalThis.lateClosed ?? 0) + 1; } }), 600)); } };\n");
  const g = await startGateway(t, config('a'), { dir, env });
  writeFileSync(g.configPath, config('b', 'filters:\n  - name: late\n    plugin: ./late.mjs\n'));
  const r = await g.gateway.reload();
  t.equal(r.ok, false, 'the reload fails at the limit');
  const closed = await waitFor(() => (globalThis as { lateClosed?: number }).lateClosed ?? 0, 3000);
  t.equal(closed, 1, 'the late instance is closed once');
  t.ok(g.logs.some((l) => l.level === 'warn' && String(l.msg).includes('finished after the time limit') && l.filter === 'late'), 'with a warning naming it');
  t.equal(g.gateway.current.generation, 1, 'the first pipeline still serves');
});

t.test('the limit: 30 s unless AI_GATEWAY_PLUGIN_TIMEOUT_MS says otherwise; nonsense is refused', async (t) => {
  t.equal(PLUGIN_TIME_LIMIT_MS, 30_000);
  t.equal(pluginTimeLimit({}), 30_000);
  t.equal(pluginTimeLimit({ AI_GATEWAY_PLUGIN_TIMEOUT_MS: '120000' }), 120_000);
  for (const bad of ['0', '-5', '1.5', 'soon']) t.throws(() => pluginTimeLimit({ AI_GATEWAY_PLUGIN_TIMEOUT_MS: bad }), /AI_GATEWAY_PLUGIN_TIMEOUT_MS must be a whole number of milliseconds above 0/);
});
