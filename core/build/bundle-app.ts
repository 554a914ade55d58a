/**
 * The build step that lets the gateway start from a few files instead of ~200.
 *
 * Node 20's ES module loader resolves, opens, reads and compiles every module one at a
 * time; at start-up that is ~200 of ours, and on machines where system calls are dear it
 * costs ~100 ms of a ~470 ms start (see bench/HISTORY.md). `node dist/core/build/bundle-app.js`
 * (the last step of `npm run build`) bundles what tsc wrote with esbuild (a build-time tool):
 *
 * - Two entries, one build: `dist/bin/ai-gateway.js` and `dist/core/index.js` become
 *   `dist/app/ai-gateway.js` and `dist/app/index.js`. Code both use lies in shared chunks,
 *   so a plugin that imports `ai-gateway` gets the very modules the gateway runs
 *   (`instanceof GatewayError` holds, as it did unbundled). Modules imported on demand (CLI
 *   commands, the cluster primary, ledgers, the config watcher) stay chunks of their own,
 *   still loaded on demand.
 * - The two tsc files are then replaced by one-line modules importing their bundle, so
 *   every way of running the gateway or importing its API runs the bundle.
 * - Packages stay outside: node_modules is resolved at run time exactly as before.
 * - Each module's `import.meta.url` is rewritten to its tsc file's URL, relative to the
 *   bundle: the paths found from it (precompiled validators, price snapshots, the package
 *   root, `createRequire`, single-writer kinds) are the unbundled ones, wherever the package
 *   is installed.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/** The first line of a file this step wrote; tsc's files never start with it. */
export const BUNDLED_MARKER = '// Bundled by core/build/bundle-app.ts';

/** The tsc files that become bundle entries, by entry name (`dist/app/<name>.js`). */
const ENTRIES = { 'ai-gateway': 'bin/ai-gateway.js', index: 'core/index.js' } as const;

/** What each entry's tsc file is replaced by. */
const STUBS: Record<keyof typeof ENTRIES, string> = {
  'ai-gateway': `#!/usr/bin/env node\n${BUNDLED_MARKER}: the gateway runs from dist/app.\nimport '../app/ai-gateway.js';\n`,
  index: `${BUNDLED_MARKER}: the API from dist/app, the modules the gateway runs.\nexport * from '../app/index.js';\n`,
};

const META_URL = /\bimport\.meta\.url\b/g;

/** Each dist module keeps the `import.meta.url` of its own file, found relative to the bundle. */
function ownMetaUrl(distDir: string, outDir: string): Plugin {
  return {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        if (!args.path.startsWith(distDir + path.sep)) return undefined; // esbuild loads it as usual
        const source = await readFile(args.path, 'utf8');
        const rel = path.relative(outDir, args.path).split(path.sep).join('/');
        return { contents: source.replace(META_URL, `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'js' };
      });
    },
  };
}

/** Bundle tsc's output in `distDir` (see the file comment); returns the modules written to `dist/app` (each with its source map). */
export async function bundleApp(distDir: string): Promise<string[]> {
  const outDir = path.join(distDir, 'app');
  const entryPoints: Record<string, string> = {};
  for (const [name, file] of Object.entries(ENTRIES)) {
    const full = path.join(distDir, file);
    if (readFileSync(full, 'utf8').includes(BUNDLED_MARKER)) throw new Error(`${full} is already a bundle stub: run tsc (npm run build) first`);
    entryPoints[name] = full;
  }
  rmSync(outDir, { recursive: true, force: true });
  const result = await build({
    entryPoints,
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // Not minified: stack traces through it name our functions (minifying gained nothing
    // measurable at start-up). Packages stay outside, so there are no licences to keep.
    legalComments: 'none',
    // Composed with tsc's maps: with --enable-source-maps, stack traces name the .ts lines.
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [ownMetaUrl(distDir, outDir)],
  });
  for (const [name, file] of Object.entries(ENTRIES) as [keyof typeof ENTRIES, string][]) {
    const full = path.join(distDir, file);
    writeFileSync(full, STUBS[name]);
    rmSync(`${full}.map`, { force: true }); // tsc's map is for the file just replaced
  }
  return Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.js'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const distDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const files = await bundleApp(distDir);
  console.log(`bundled the gateway into ${files.length} modules in ${path.relative(process.cwd(), path.join(distDir, 'app')) || '.'}`);
}
