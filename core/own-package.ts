/**
 * `ai-gateway` as a plugin imports it: the running gateway's own entry, wherever the plugin
 * lives, through a module resolve hook registered only for a plugin that needs it.
 */
import { realpathSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageRoot } from './package-root.js';

/**
 * Resolves `ai-gateway` (and `ai-gateway/package.json`, the other path the package exports)
 * to this running gateway's own package entry, from wherever the importing plugin lives.
 * Node's own resolution finds the package only from inside its folder (by its name) or below
 * a node_modules holding it, never from a plugin beside a config mounted elsewhere; and a
 * copy found in another node_modules would be a second gateway's modules, whose classes and
 * registries the running one does not share. Run from the bundle, the entry is
 * `dist/core/index.js`, which hands out the bundle's modules; from source (tsx), `index.ts`.
 */
const OWN_PACKAGE_HOOK = `let entry, manifest;
export function initialize(data) { ({ entry, manifest } = data); }
export function resolve(specifier, context, next) {
  if (specifier === 'ai-gateway') return next(entry, context);
  if (specifier === 'ai-gateway/package.json') return next(manifest, context);
  return next(specifier, context);
}
`;

/** This gateway's package entry, the module `ai-gateway` must mean to a plugin. */
export const OWN_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './index.ts' : './index.js', import.meta.url);

let ownPackageHook = false;

/**
 * Whether a plugin at `file` needs the hook: whether `ai-gateway` imported from there would
 * be anything but `entryFile` (nothing at all, or another copy). A plugin inside the
 * gateway's folder, or installed beside it, finds the entry without it.
 */
export function needsOwnPackageHook(file: string | undefined, entryFile: string): boolean {
  if (file === undefined) return true;
  try {
    return realpathSync(createRequire(file).resolve('ai-gateway')) !== realpathSync(entryFile);
  } catch {
    return true;
  }
}

/**
 * Registered only when a plugin needs it (see above): Node then runs every later ES module
 * resolution through a thread of its own, which takes tens of milliseconds to start.
 */
export function resolveOwnPackageFor(file: string | undefined): void {
  if (ownPackageHook || !needsOwnPackageHook(file, fileURLToPath(OWN_ENTRY))) return;
  ownPackageHook = true;
  const manifest = pathToFileURL(path.join(packageRoot, 'package.json')).href;
  register(`data:text/javascript,${encodeURIComponent(OWN_PACKAGE_HOOK)}`, { data: { entry: OWN_ENTRY.href, manifest } });
}
