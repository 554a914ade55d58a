/**
 * The build step that writes the bundles `bundled.ts` loads:
 * `node dist/core/deps/bundle.js` bundles each of {@link BUNDLED_PACKAGES} with esbuild
 * (a build-time tool only) into `dist/vendor/<name>.cjs`, and records the versions in
 * `dist/vendor/manifest.json`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLED_PACKAGES, installedVersion, MANIFEST, VENDOR_DIR } from './bundled.js';

const resolve = createRequire(import.meta.url).resolve;

/** Bundle every package into `dir`; returns the manifest written. */
export async function bundlePackages(dir: string = VENDOR_DIR): Promise<Record<string, string>> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const versions: Record<string, string> = {};
  for (const name of BUNDLED_PACKAGES) {
    // Readable output (no minifying): stack traces through it name the package's functions.
    await build({ entryPoints: [resolve(name)], outfile: path.join(dir, `${name}.cjs`), bundle: true, platform: 'node', format: 'cjs', target: 'node20', legalComments: 'inline', logLevel: 'warning' });
    versions[name] = installedVersion(name);
  }
  writeFileSync(path.join(dir, MANIFEST), JSON.stringify(versions, null, 2) + '\n');
  return versions;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await bundlePackages();
}
