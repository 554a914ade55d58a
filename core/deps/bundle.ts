/**
 * The build step that writes the bundles `bundled.ts` loads:
 * `node dist/core/deps/bundle.js` bundles each of {@link BUNDLED_PACKAGES} with esbuild
 * (a build-time tool only) into `dist/vendor/<name>.cjs`, and records the versions in
 * `dist/vendor/manifest.json`. A package listed in {@link BUNDLED_PARTS} is bundled from
 * those files only.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { bundleCommonJs } from '../build/commonjs-bundle.js';
import { BUNDLED_PACKAGES, BUNDLED_PARTS, installedVersion, MANIFEST, VENDOR_DIR, type BundledPackage } from './bundled.js';
import { prototypeFills } from './prototype-fill.js';

const resolve = createRequire(import.meta.url).resolve;

/**
 * Modules a bundle holds but evaluates on first use, by the `require` specifier that names
 * them, and what stands in for each until then: an object (for a property read) or a
 * function (for a call).
 * - prom-client's CPU metric requires `@opentelemetry/api` at load to read the current span
 *   when exemplars are on, which the gateway never turns on: ~3 ms of start-up.
 * - undici's Client requires its HTTP/2 client at load, and that requires `node:http2`
 *   (~5 ms); the gateway's pools never offer h2 upstream, so it is called only if one is
 *   configured to. (The listener loads `node:http2` on the first h2c client, or at start
 *   with TLS.)
 * - ioredis's connectors require `tls` at load (~1–5 ms with its internals), used only to
 *   connect to a `rediss://` store; no other bundle requires it by that name.
 */
const ON_FIRST_USE: ReadonlyArray<{ filter: RegExp; standIn: 'object' | 'function' }> = [
  { filter: /^@opentelemetry\/api$/, standIn: 'object' },
  { filter: /^\.\/client-h2\.js$/, standIn: 'function' },
  { filter: /^tls$/, standIn: 'object' },
];

/** `require(name)` gets a proxy that requires the bundled module when first read or called. */
function requiredOnFirstUse(): Plugin {
  return {
    name: 'required-on-first-use',
    setup(b) {
      for (const { filter, standIn } of ON_FIRST_USE) {
        // The proxy's own require of the name resolves as usual (its namespace tells it apart).
        b.onResolve({ filter }, (args) => (args.namespace === 'on-first-use' ? undefined : { path: args.path, namespace: 'on-first-use', pluginData: { resolveDir: args.resolveDir, standIn } }));
      }
      b.onLoad({ filter: /.*/, namespace: 'on-first-use' }, (args) => {
        const { resolveDir, standIn } = args.pluginData as { resolveDir: string; standIn: 'object' | 'function' };
        // An arrow function as a callable target: it has no own properties a proxy must report as they are.
        const target = standIn === 'function' ? '() => {}' : '{}';
        const apply = standIn === 'function' ? ', apply: (_, self, args) => Reflect.apply(load(), self, args)' : '';
        return {
          contents: `let mod;\nconst load = () => (mod ??= require(${JSON.stringify(args.path)}));\nmodule.exports = new Proxy(${target}, { get: (_, key) => load()[key]${apply} });\n`,
          resolveDir,
          loader: 'js',
        };
      });
    },
  };
}

/** What esbuild bundles for `name`: its main module, or a module exporting only its listed parts. */
function entryOf(name: BundledPackage): { entryPoints: string[] } | { stdin: { contents: string; resolveDir: string; loader: 'js' } } {
  const parts = BUNDLED_PARTS[name];
  if (!parts) return { entryPoints: [resolve(name)] };
  const contents = Object.entries(parts).map(([exported, file]) => `exports.${exported} = require(${JSON.stringify(`${name}/${file}`)});`).join('\n');
  return { stdin: { contents, resolveDir: path.dirname(fileURLToPath(import.meta.url)), loader: 'js' } };
}

/** Bundle every package into `dir`; returns the manifest written. */
export async function bundlePackages(dir: string = VENDOR_DIR): Promise<Record<string, string>> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const versions: Record<string, string> = {};
  for (const name of BUNDLED_PACKAGES) {
    // Readable output (no minifying): stack traces through it name the package's functions.
    // Licence comments go, as written, to `<name>.cjs.LEGAL.txt` beside the bundle, so the
    // ASCII rewrite never alters one (undici's credits an author whose name has an `ä`).
    await bundleCommonJs({ ...entryOf(name), outfile: path.join(dir, `${name}.cjs`), legalComments: 'external', plugins: [requiredOnFirstUse(), prototypeFills()] });
    const version = installedVersion(name);
    if (version === undefined) throw new Error(`${name}: no node_modules/${name}/package.json found from ${VENDOR_DIR}`);
    versions[name] = version;
  }
  writeFileSync(path.join(dir, MANIFEST), JSON.stringify(versions, null, 2) + '\n');
  return versions;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await bundlePackages();
}
