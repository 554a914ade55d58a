import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../core/config/load.js';
import { ConfigError } from '../../core/config/issues.js';
import { resolvePlugins } from '../../core/pipeline.js';
import { builtinCatalog } from '../../bin/catalog.js';
import { startGateway } from '../helpers/gateway.js';
import { call, messages } from '../helpers/http.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../fixtures/plugins');
const repo = path.resolve(here, '../..');

async function loadIssues(yaml: string): Promise<ConfigError['issues']> {
  const loaded = parseConfig(yaml, path.join(fixtures, 'config.yaml'), {});
  try {
    await resolvePlugins(loaded, builtinCatalog);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}

t.test('a good external filter loads by relative path, validated against its schema', async (t) => {
  t.same(await loadIssues('filters:\n  - name: rec\n    plugin: ./recorder.js\n    config: { tag: a }\n'), []);
  const bad = await loadIssues('filters:\n  - name: rec\n    plugin: ./recorder.js\n    config:\n      tag: [1, 2]\n      nope: true\n');
  t.same(bad.map((i) => i.path).sort(), ['filters[0].config.nope', 'filters[0].config.tag'].sort());
  t.equal(bad.find((i) => i.path === 'filters[0].config.nope')?.line, 6);
});

t.test('a module that fails to import fails the load with its message', async (t) => {
  const issues = await loadIssues('filters:\n  - name: x\n    plugin: ./throws-on-import.js\n');
  t.equal(issues.length, 1);
  t.equal(issues[0].path, 'filters[0].plugin');
  t.match(issues[0].message, /cannot import plugin "\.\/throws-on-import\.js": this plugin fails at import time/);
});

t.test('a missing module says so', async (t) => {
  const issues = await loadIssues('filters:\n  - name: x\n    plugin: ./does-not-exist.js\n');
  t.match(issues[0].message, /cannot import plugin/);
});

t.test('a module of the wrong shape says what the contract wants', async (t) => {
  const issues = await loadIssues('filters:\n  - name: x\n    plugin: ./broken-shape.js\n');
  t.equal(issues.length, 1);
  t.match(issues[0].message, /needs a create\(config, env\) function/);
  const asProvider = await loadIssues('providers:\n  p:\n    plugin: ./broken-shape.js\n');
  t.match(asProvider[0].message, /provider plugin "broken-shape" needs a create/);
  t.equal(asProvider[0].path, 'providers.p.plugin');
});

t.test('a provider plugin with modelPatterns as a string is refused with what to write', async (t) => {
  const issues = await loadIssues('providers:\n  p:\n    plugin: ./string-patterns.js\n');
  t.equal(issues.length, 1);
  t.match(issues[0].message, /"modelPatterns" of provider plugin "string-patterns" must be an array of strings/);
});

t.test('an instance with a non-function hook fails the build', async (t) => {
  const err = await startGateway(t, `filters:\n  - name: x\n    plugin: ${path.join(fixtures, 'bad-instance.js')}\n`).catch((e: unknown) => e);
  t.ok(err instanceof ConfigError);
  t.match((err as ConfigError).message, /filter "x": "onRequest" must be a function/);
});

t.test('duplicate filter names are refused', async (t) => {
  const issues = await loadIssues('filters:\n  - name: rec\n    plugin: ./recorder.js\n  - name: rec\n    plugin: ./recorder.js\n');
  t.match(issues[0].message, /duplicate filter name "rec"/);
  t.equal(issues[0].line, 4);
});

t.test('the example external filter loads from config and stamps responses', async (t) => {
  const gw = await startGateway(t, `providers:\n  echo: {}\nfilters:\n  - name: stamp\n    plugin: ${path.join(repo, 'examples/plugins/response-stamp/index.js')}\n    config: { value: team-a }\n`);
  const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('hi') });
  t.equal(res.status, 200);
  t.equal(res.headers['x-gateway-stamp'], 'team-a');
  // Loading the same plugin again (a reload, a second gateway) reuses its metric.
  const second = await startGateway(t, `providers:\n  echo: {}\nfilters:\n  - name: stamp\n    plugin: ${path.join(repo, 'examples/plugins/response-stamp/index.js')}\n    config: { value: team-b }\n`);
  t.ok(second, 'a second load does not throw "already registered"');
  const reload = await gw.gateway.reload();
  t.equal(reload.ok, true);
  const again = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('hi') });
  t.equal(again.status, 200);
  const metrics = await call(`${gw.url}/metrics`);
  t.match(metrics.text, /example_stamped_responses_total\{route="echo"\} 2/);
});

t.test('the same plugin registered twice in one config, with per-route overrides, shares its metrics', async (t) => {
  const plugin = path.join(repo, 'examples/plugins/response-stamp/index.js');
  const gw = await startGateway(t, `providers:\n  echo: {}\nfilters:\n  - name: a\n    plugin: ${plugin}\n    config: { value: A, header: x-a }\n  - name: b\n    plugin: ${plugin}\n    config: { value: B, header: x-b }\nroutes:\n  - name: r\n    match: { prefix: /r }\n    provider: echo\n    filters:\n      b: { value: B2 }\n`);
  const res = await call(`${gw.url}/r/v1/messages`, { body: messages('hi') });
  t.equal(res.headers['x-a'], 'A');
  t.equal(res.headers['x-b'], 'B2');
});

t.test('an external provider without credentials is listed unconfigured and answers 503 in its dialect', async (t) => {
  const gw = await startGateway(t, `providers:\n  keyless:\n    plugin: ${path.join(fixtures, 'keyless-provider.js')}\n`);
  const list = await call(`${gw.url}/v1/providers`);
  const entry = list.json<{ providers: Array<Record<string, unknown>> }>().providers.find((p) => p.name === 'keyless')!;
  t.equal(entry.configured, false);
  t.equal(entry.status, 'unconfigured');
  t.equal(entry.route_prefix, '/v1/keyless');
  const res = await call(`${gw.url}/v1/keyless/anything`, { body: '{}' });
  t.equal(res.status, 503);
  t.equal(res.json<{ code: string }>().code, 'GW_ERR_PROVIDER_UNCONFIGURED');
  const health = await call(`${gw.url}/v1/keyless/health`);
  t.equal(health.status, 503);
  t.equal(health.json<{ status: string }>().status, 'unconfigured');
});

t.test('the same external provider with a key serves', async (t) => {
  const gw = await startGateway(t, `providers:\n  keyless:\n    plugin: ${path.join(fixtures, 'keyless-provider.js')}\n    api_key: k\n    prefix: /custom\n`);
  const res = await call(`${gw.url}/custom/x`, { body: '{}' });
  t.equal(res.status, 200);
  t.equal(res.text, 'served');
});

t.test("built-ins the config names are imported together, each failure reported at its entry; others are not imported", async (t) => {
  const events: string[] = [];
  const gates = new Map<string, () => void>();
  // Each loader waits to be released, so the test sees which had started before any finished.
  const loader = (name: string, fail = false) => () => {
    events.push(`start ${name}`);
    return new Promise((resolve, reject) => gates.set(name, () => (fail ? reject(new Error(`${name} broke at import`)) : resolve({ name, create: () => ({}) }))));
  };
  const catalog = {
    filters: { first: loader('first'), broken: loader('broken', true), unused: loader('unused') },
    providers: { echoish: loader('echoish') },
  };
  const loaded = parseConfig('providers:\n  echoish: {}\nfilters:\n  - name: first\n  - name: broken\n', path.join(fixtures, 'config.yaml'), {});
  const resolving = resolvePlugins(loaded, catalog as unknown as Parameters<typeof resolvePlugins>[1]);
  await new Promise((r) => setImmediate(r));
  t.same([...events].sort(), ['start broken', 'start echoish', 'start first'], 'all three started before any was released; the unnamed one not at all');
  for (const release of gates.values()) release();
  const err = (await resolving.then(() => undefined, (e: unknown) => e)) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.same(err.issues.map((i) => [i.path, i.message]), [['filters[1]', 'broken broke at import']]);
});

t.test("a create() failure is reported at the entry that failed, with its line and key path", async (t) => {
  const failed = async (yaml: string): Promise<ConfigError['issues']> => {
    const err = await startGateway(t, yaml).catch((e: unknown) => e);
    t.ok(err instanceof ConfigError, 'the start is refused with a ConfigError');
    return (err as ConfigError).issues;
  };
  const filter = await failed('providers:\n  echo: {}\nfilters:\n  - name: network\n    config: { allow: [127.0.0.1/32] }\n  - name: auth\n    config: { require_keys: true }\n');
  t.same(filter.map((i) => [i.path, i.line]), [['filters[1]', 6]], 'the second filter, at its line');
  t.match(filter[0].message, /filter "auth": create\(\) failed: require_keys is true but key_secret is empty/);
  const provider = await failed(`providers:\n  echo: {}\n  ollama:\n    plugin: ${path.join(repo, 'examples/plugins/ollama/index.js')}\n    base_url: http://user:pw@127.0.0.1:11434\n`);
  t.same(provider.map((i) => [i.path, i.line]), [['providers.ollama', 4]], 'the provider entry, at its line');
  t.match(provider[0].message, /provider "ollama": create\(\) failed: base_url must not carry a query or credentials/);
  const override = await failed('providers:\n  echo: {}\nfilters:\n  - name: auth\nroutes:\n  - name: r\n    match: { prefix: /r }\n    provider: echo\n    filters:\n      auth: { require_keys: true }\n');
  t.same(override.map((i) => [i.path, i.line]), [['routes[0].filters.auth', 10]], "a route's override, at its own line");
});
