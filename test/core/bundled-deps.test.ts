/**
 * prom-client, yaml, chokidar, lru-cache and undici's pool load from the build's bundles:
 * the build wrote current ones, they export what the packages export, the gateway's
 * modules load them (and none of the packages' own files), and a missing or stale bundle
 * falls back to the package.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import t from 'tap';
import { BUNDLED_PACKAGES, BUNDLED_PARTS, bundleFile, installedVersion, loadBundled, MANIFEST, PROM_CLIENT_PARTS, VENDOR_DIR } from '../../core/deps/bundled.js';
import { AggregatorRegistry, Counter, Registry } from '../../core/deps/prom-client.js';
import { LineCounter, parseDocument } from '../../core/deps/yaml.js';
import { tempDir } from '../helpers/temp-dir.js';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '../..');

/** Each export's name and kind: what a caller of the module can rely on. */
function surface(mod: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.keys(mod).sort().map((k) => [k, typeof mod[k]]));
}

t.test('the build bundled each package at its installed version', async (t) => {
  for (const name of BUNDLED_PACKAGES) {
    t.equal(bundleFile(name), path.join(VENDOR_DIR, `${name}.cjs`), `${name} loads from dist/vendor`);
    const parts = BUNDLED_PARTS[name];
    // A part is what its file in the package exports.
    const expected = parts ? Object.fromEntries(Object.entries(parts).map(([k, file]) => [k, require(`${name}/${file}`) as unknown])) : (require(name) as Record<string, unknown>);
    t.same(surface(require(bundleFile(name)!) as Record<string, unknown>), surface(expected), `${name}: the bundle exports what the package does${parts ? ' (the parts listed)' : ''}`);
  }
});

t.test('the prom-client bundle: the listed parts are the package\'s, without what the gateway never calls', async (t) => {
  // Its methods and statics (esbuild may rename a class, so not by name).
  const members = (f: { prototype?: object }): string[] => [...Object.getOwnPropertyNames(f).filter((k) => k !== 'name'), ...(f.prototype ? Object.getOwnPropertyNames(f.prototype) : [])].sort();
  const bundle = require(bundleFile('prom-client')!) as Record<string, { prototype?: object }>;
  const pkg = require('prom-client') as Record<string, { prototype?: object }>;
  for (const part of Object.keys(PROM_CLIENT_PARTS)) t.same(members(bundle[part]), members(pkg[part]), `${part} is the package's`);
  const script = `
    const before = new Set(process.moduleLoadList);
    const prom = require(${JSON.stringify(bundleFile('prom-client'))});
    const loaded = process.moduleLoadList.filter((m) => !before.has(m) && /^NativeModule (https|tls|zlib)$/.test(m));
    // Exemplars on the CPU counter read the OpenTelemetry API, which loads only then.
    const registry = new prom.Registry(prom.Registry.OPENMETRICS_CONTENT_TYPE);
    prom.collectDefaultMetrics({ register: registry, enableExemplars: true });
    registry.metrics().then((text) => console.log(JSON.stringify({ loaded, cpu: /^process_cpu_user_seconds_total /m.test(text) })));`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' })) as { loaded: string[]; cpu: boolean };
  t.same(out.loaded, [], 'the Pushgateway client (https, tls, zlib) is not loaded');
  t.ok(out.cpu, 'the CPU counter, with exemplars on, is collected through the API loaded on first use');
});

t.test('the built gateway modules load the bundles, not the packages', async (t) => {
  const script = `
    await import(${JSON.stringify(path.join(root, 'dist/core/gateway-metrics.js'))});
    await import(${JSON.stringify(path.join(root, 'dist/core/config/load.js'))});
    await import(${JSON.stringify(path.join(root, 'dist/core/config/watch.js'))});
    await import(${JSON.stringify(path.join(root, 'dist/core/stores/growing-lru.js'))});
    const { codeCacheUse } = await import(${JSON.stringify(path.join(root, 'dist/core/deps/code-cache.js'))});
    const { createRequire } = await import('node:module');
    const files = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify({
      vendor: [...codeCacheUse().keys()].filter((f) => f.includes('/dist/vendor/')).map((f) => f.slice(f.lastIndexOf('/') + 1)).sort(),
      packages: files.filter((f) => /node_modules\\/(prom-client|yaml|@opentelemetry|chokidar|readdirp|lru-cache)\\/.*\\.c?js$/.test(f)).length,
    }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })) as { vendor: string[]; packages: number };
  t.same(out.vendor, ['chokidar.cjs', 'lru-cache.cjs', 'prom-client.cjs', 'yaml.cjs'], 'the four bundles loaded');
  t.equal(out.packages, 0, 'no module of prom-client, @opentelemetry/api, yaml, chokidar, readdirp or lru-cache loaded from node_modules');
});

t.test('the installed version is the one of the package Node resolves', async (t) => {
  for (const name of BUNDLED_PACKAGES) {
    // Up from the module Node resolves to its package's own package.json.
    let dir = path.dirname(require.resolve(name));
    while (!existsSync(path.join(dir, 'package.json')) || (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== name) dir = path.dirname(dir);
    t.equal(installedVersion(name), (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version, name);
  }
});

t.test('a missing, stale or unreadable bundle falls back to the package', async (t) => {
  const dir = tempDir('gw-vendor-');
  t.equal(bundleFile('yaml', dir), undefined, 'no bundle');
  writeFileSync(path.join(dir, 'yaml.cjs'), 'module.exports = { marker: "bundle" };');
  t.equal(bundleFile('yaml', dir), undefined, 'a bundle without a manifest');
  writeFileSync(path.join(dir, MANIFEST), JSON.stringify({ yaml: '0.0.1' }));
  t.equal(bundleFile('yaml', dir), undefined, 'a bundle of another version');
  t.equal(loadBundled<{ parse?: unknown }>('yaml', dir).parse, require('yaml').parse, 'which loads the package');
  writeFileSync(path.join(dir, MANIFEST), '{not json');
  t.equal(bundleFile('yaml', dir), undefined, 'an unreadable manifest');
  writeFileSync(path.join(dir, MANIFEST), JSON.stringify({ yaml: installedVersion('yaml') }));
  t.equal(loadBundled<{ marker?: string }>('yaml', dir).marker, 'bundle', 'a current bundle is what loads');
  t.equal(bundleFile('prom-client', dir), undefined, 'a package the manifest does not name');
});

t.test('the bundled prom-client aggregates registries of its own kind', async (t) => {
  const workers = [0, 1].map((w) => {
    const registry = new Registry();
    new Counter({ name: 'gw_test_total', help: 'h', labelNames: ['w'], registers: [registry] }).inc({ w: 'x' }, w + 2);
    return registry;
  });
  // aggregate() checks `instanceof Registry` on what it is given: one copy of the classes.
  const merged = AggregatorRegistry.aggregate(await Promise.all(workers.map((r) => r.getMetricsAsJSON())));
  t.match(await merged.metrics(), /^gw_test_total\{w="x"\} 5$/m, 'the two workers summed');
});

t.test('the bundled yaml parses with positions', async (t) => {
  const lines = new LineCounter();
  const doc = parseDocument('a: 1\nb:\n  c: [x, y]\n', { lineCounter: lines });
  t.same(doc.toJS(), { a: 1, b: { c: ['x', 'y'] } });
  const node = doc.getIn(['b', 'c'], true) as { range: [number, number, number] };
  t.same(lines.linePos(node.range[0]), { line: 3, col: 6 }, 'line and column of a nested node');
});
