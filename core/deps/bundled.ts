/**
 * Packages loaded from one file. `prom-client` (with `@opentelemetry/api`, which its CPU
 * metric requires) is 88 CommonJS modules, `yaml` 72 and undici's pool ~45; Node 20
 * resolves, reads and compiles each one by one. chokidar (3 files with readdirp) and
 * lru-cache (1) are few, but their uncached compiles took ~10 and ~6 ms of a start here,
 * against ~3.5 and ~2 bundled with their caches. `npm run build` bundles each into
 * `dist/vendor/<name>.cjs` (see `bundle.ts`), loaded with the build's code cache
 * (`code-cache.ts`). A bundle is used only when its manifest names the version installed
 * now; without one (a plain `tsc`), or after an upgrade not yet rebuilt, the package itself
 * is loaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../package-root.js';
import { requireCached, WRITE_CODE_CACHE_ENV } from './code-cache.js';

/** The packages the build bundles. */
export const BUNDLED_PACKAGES = ['chokidar', 'ioredis', 'lru-cache', 'prom-client', 'undici', 'yaml'] as const;
export type BundledPackage = (typeof BUNDLED_PACKAGES)[number];

/**
 * The prom-client exports the gateway uses, each with the package file it comes from; its
 * bundle holds these alone. The package's main module also loads the Pushgateway client
 * (`https`, `tls`, `zlib`) and Summary's quantile trees, ~10 ms of a start-up here.
 */
export const PROM_CLIENT_PARTS = {
  AggregatorRegistry: 'lib/cluster',
  Counter: 'lib/counter',
  Gauge: 'lib/gauge',
  Histogram: 'lib/histogram',
  Registry: 'lib/registry',
  collectDefaultMetrics: 'lib/defaultMetrics',
} as const;

/**
 * The undici files the upstream pools need (see `core/pool.ts`): `Pool`, and the request
 * API undici's entry copies onto `Dispatcher.prototype`. Loaded from node_modules they are
 * ~45 files and ~45 ms of a start-up here; from one bundle ~30, ~25 with its code cache.
 * And the bytes of its HTTP/1.1 parser (llhttp, WebAssembly), which the pools compile
 * ahead (the very module the client requires later: a bundle evaluates each file once).
 */
export const UNDICI_PARTS = {
  Dispatcher: 'lib/dispatcher/dispatcher.js',
  Pool: 'lib/dispatcher/pool.js',
  api: 'lib/api/index.js',
  llhttpSimd: 'lib/llhttp/llhttp_simd-wasm.js',
} as const;

/** Packages bundled from some of their files: export name → file in the package. Others from their main module. */
export const BUNDLED_PARTS: Partial<Record<BundledPackage, Readonly<Record<string, string>>>> = { 'prom-client': PROM_CLIENT_PARTS, undici: UNDICI_PARTS };

/** `dist/vendor/` of this checkout or install (also when running from source). */
export const VENDOR_DIR = path.join(packageRoot, 'dist', 'vendor');

/** `dist/vendor/manifest.json`: the version each bundle was made from. */
export const MANIFEST = 'manifest.json';

const load = createRequire(import.meta.url);

/**
 * `node_modules/<name>/package.json` as Node's lookup finds it from this package: in each
 * directory from the package root up, the first one there. Not `require.resolve`: its
 * exports and realpath work took ~1–5 ms a package at every start here (chokidar's
 * `exports` do not even list `./package.json`).
 */
function packageJsonOf(name: BundledPackage): string | undefined {
  for (let dir = packageRoot; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'node_modules', name, 'package.json');
    if (path.basename(dir) !== 'node_modules' && existsSync(file)) return file;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The version of `name` installed in node_modules (undefined if it is not found there). */
export function installedVersion(name: BundledPackage): string | undefined {
  const file = packageJsonOf(name);
  return file && (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
}

/** Where `name` loads from: its bundle in `dir` when that was made from the installed version, else undefined (the package). */
export function bundleFile(name: BundledPackage, dir: string = VENDOR_DIR): string | undefined {
  const file = path.join(dir, `${name}.cjs`);
  const manifest = path.join(dir, MANIFEST);
  if (!existsSync(file) || !existsSync(manifest)) return undefined;
  try {
    const versions = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
    const installed = installedVersion(name);
    return installed !== undefined && versions[name] === installed ? file : undefined;
  } catch {
    return undefined; // an unreadable manifest: the package is always right
  }
}

/** The module `name`, from its bundle when there is a current one. */
export function loadBundled<T>(name: BundledPackage, dir: string = VENDOR_DIR): T {
  const file = bundleFile(name, dir);
  return (file ? requireCached(file) : load(name)) as T;
}

/**
 * Bundles a start loads only when its config asks for them (`ioredis`: a Redis store). The
 * build records its code caches from a start of the default config, which needs none of
 * them, so that start loads them anyway and their caches are written with the rest.
 */
const LOADED_ON_FIRST_USE: readonly BundledPackage[] = ['ioredis'];
if (process.env[WRITE_CODE_CACHE_ENV] === '1') for (const name of LOADED_ON_FIRST_USE) loadBundled(name);
