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
import { build, type Plugin } from 'esbuild';
import { BUNDLED_PACKAGES, BUNDLED_PARTS, installedVersion, MANIFEST, VENDOR_DIR, type BundledPackage } from './bundled.js';

const resolve = createRequire(import.meta.url).resolve;

/**
 * Packages a bundle holds but evaluates on first use. prom-client's CPU metric requires
 * `@opentelemetry/api` at load to read the current span when exemplars are on, which the
 * gateway never turns on: ~3 ms of start-up for a module nothing calls.
 */
const REQUIRED_ON_FIRST_USE = /^@opentelemetry\/api$/;

/** `require(name)` gets a proxy that requires the bundled module when a property is first read. */
function requiredOnFirstUse(filter: RegExp): Plugin {
  return {
    name: 'required-on-first-use',
    setup(b) {
      // The proxy's own require of the name resolves as usual (its namespace tells it apart).
      b.onResolve({ filter }, (args) => (args.namespace === 'on-first-use' ? undefined : { path: args.path, namespace: 'on-first-use', pluginData: args.resolveDir }));
      b.onLoad({ filter: /.*/, namespace: 'on-first-use' }, (args) => ({
        contents: `let mod;\nmodule.exports = new Proxy({}, { get: (_, key) => (mod ??= require(${JSON.stringify(args.path)}))[key] });\n`,
        resolveDir: args.pluginData as string,
        loader: 'js',
      }));
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
    await build({ ...entryOf(name), outfile: path.join(dir, `${name}.cjs`), bundle: true, platform: 'node', format: 'cjs', target: 'node20', legalComments: 'inline', logLevel: 'warning', plugins: [requiredOnFirstUse(REQUIRED_ON_FIRST_USE)] });
    versions[name] = installedVersion(name);
  }
  writeFileSync(path.join(dir, MANIFEST), JSON.stringify(versions, null, 2) + '\n');
  return versions;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await bundlePackages();
}
