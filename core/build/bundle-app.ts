/**
 * The build step that lets the gateway start from one file instead of ~200, with a code cache.
 *
 * Node 20's ES module loader resolves, opens, reads and compiles every module one at a
 * time, and keeps no code cache for them. `node dist/core/build/bundle-app.js` (a step of
 * `npm run build`) bundles what tsc wrote with esbuild (a build-time tool) into one
 * CommonJS file, `dist/app/gateway.cjs`, which `requireCached` (core/deps/code-cache.ts)
 * loads with the V8 code cache the build's last step writes (see README, Start-up):
 *
 * - One bundle holds the package API (`core/index.js`) and the command (`bin/cli.js`), so a
 *   plugin that imports `ai-gateway` gets the very modules the gateway runs (`instanceof
 *   GatewayError` holds, as it did unbundled). Modules imported on demand (CLI commands,
 *   the cluster primary, ledgers, the config watcher) are in it too, evaluated on demand.
 * - `dist/app/load.cjs` loads it once and hands it the `import()` that code compiled by
 *   `vm.Script` lacks (core/dynamic-import.ts), with its own CommonJS copy of
 *   `code-cache.ts` (`dist/app/code-cache.cjs`). The command, `dist/bin/ai-gateway.cjs`, is
 *   CommonJS too: Node runs an ES module main through its ES module loader, ~12 ms more
 *   between spawn and a loaded bundle here. The two tsc entry files are replaced by ES
 *   modules using the same loader (`dist/app/load.js`): `dist/bin/ai-gateway.js` runs the
 *   command as before, `dist/core/index.js` exports the API by name.
 * - Packages stay outside: node_modules is resolved at run time exactly as before.
 * - Each module's `import.meta.url` becomes its tsc file's URL, found from the bundle's
 *   directory: the paths found from it (precompiled validators, price snapshots, the package
 *   root, `createRequire`, single-writer kinds) are the unbundled ones, wherever the package
 *   is installed.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { bundleCommonJs } from './commonjs-bundle.js';

/** The first line of a file this step wrote (after a shebang); tsc's files never start with it. */
export const BUNDLED_MARKER = '// Bundled by core/build/bundle-app.ts';

/** The bundle, in `dist/app`. */
export const APP_BUNDLE = 'gateway.cjs';

/** The tsc files the bundle is made from, which it then replaces. */
const API_ENTRY = 'core/index.js';
const CLI_ENTRY = 'bin/ai-gateway.js';

/** The command as CommonJS, in `dist/`: what `npm start`, the image and the package's `bin` run. */
export const CLI_COMMAND = 'bin/ai-gateway.cjs';

/** code-cache.ts, for the CommonJS loader, in `dist/app`. */
const CODE_CACHE_CJS = 'code-cache.cjs';

/** What the bundle exports beside the API, for its loader (`dist/app/load.cjs`) and the command stubs: name → tsc file. */
const LOADER_EXPORTS = { runCli: 'bin/cli.js', setImporter: 'core/dynamic-import.js' } as const;

const META_URL = /\bimport\.meta\.url\b/g;
/** Defined once at the top of the bundle; `__dirname` is the bundle's directory there. */
const META_URL_OF = '__gwMetaUrl';
const META_URL_BANNER = `function ${META_URL_OF}(rel) { return require("node:url").pathToFileURL(require("node:path").join(__dirname, rel)).href; }`;

/** Each dist module keeps the `import.meta.url` of its own file, found relative to the bundle. */
function ownMetaUrl(distDir: string, outDir: string): Plugin {
  return {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        if (!args.path.startsWith(distDir + path.sep)) return undefined; // esbuild loads it as usual
        const source = await readFile(args.path, 'utf8');
        const rel = path.relative(outDir, args.path).split(path.sep).join('/');
        return { contents: source.replace(META_URL, `${META_URL_OF}(${JSON.stringify(rel)})`), loader: 'js' };
      });
    },
  };
}

/** `dist/app/load.cjs`: the bundle, loaded once per process (whoever requires first), with its `import()`. */
const LOADER_CJS = `${BUNDLED_MARKER}: loads ${APP_BUNDLE} with its code cache.
'use strict';
const path = require('node:path');
const { requireCached } = require('./${CODE_CACHE_CJS}');

const app = requireCached(path.join(__dirname, '${APP_BUNDLE}'));
app.setImporter((specifier) => import(specifier));
module.exports = app;
`;

/** `dist/app/load.js`: the same app, for ES modules. */
const LOADER = `${BUNDLED_MARKER}: the app load.cjs loaded, for ES modules.
import app from './load.cjs';

export { app };
`;

const CLI_STUB_CJS = `#!/usr/bin/env node\n${BUNDLED_MARKER}: the gateway runs from dist/app.\n'use strict';\n\nrequire('../app/load.cjs').runCli(process.argv.slice(2));\n`;

/** The tsc command's path, kept for whoever runs it: an ES module main, so a little slower to start. */
const CLI_STUB = `#!/usr/bin/env node\n${BUNDLED_MARKER}: the gateway runs from dist/app (${path.basename(CLI_COMMAND)} starts sooner).\nimport { app } from '../app/load.js';\n\napp.runCli(process.argv.slice(2));\n`;

function apiStub(names: string[]): string {
  return `${BUNDLED_MARKER}: the API from dist/app, the modules the gateway runs.\nimport { app } from '../app/load.js';\n\nexport const {\n${names.map((n) => `  ${n},`).join('\n')}\n} = app;\n`;
}

/** Bundle tsc's output in `distDir` (see the file comment); returns the files written to `dist/app` and the `.cjs` command. */
export async function bundleApp(distDir: string): Promise<string[]> {
  const outDir = path.join(distDir, 'app');
  for (const file of [API_ENTRY, CLI_ENTRY]) {
    const full = path.join(distDir, file);
    if (readFileSync(full, 'utf8').includes(BUNDLED_MARKER)) throw new Error(`${full} is already a bundle stub: run tsc (npm run build) first`);
  }
  rmSync(outDir, { recursive: true, force: true });
  const bundle = path.join(outDir, APP_BUNDLE);
  await bundleCommonJs({
    stdin: {
      contents: [`export * from './${API_ENTRY}';`, ...Object.entries(LOADER_EXPORTS).map(([name, file]) => `export { ${name} } from './${file}';`)].join('\n'),
      resolveDir: distDir,
      sourcefile: 'app-entry.js',
      loader: 'js',
    },
    outfile: bundle,
    packages: 'external',
    banner: { js: META_URL_BANNER },
    // Not minified: stack traces through it name our functions. Packages stay outside, so
    // there are no licences to keep.
    legalComments: 'none',
    // Composed with tsc's maps, for reading a stack trace's gateway.cjs lines as .ts lines.
    sourcemap: true,
    plugins: [ownMetaUrl(distDir, outDir)],
  });
  await bundleCommonJs({ entryPoints: [path.join(distDir, 'core/deps/code-cache.js')], outfile: path.join(outDir, CODE_CACHE_CJS), legalComments: 'none' });
  // The API's names, read from the bundle itself (plain require: nothing is cached at build).
  const names = Object.keys(createRequire(import.meta.url)(bundle) as object).filter((n) => !Object.hasOwn(LOADER_EXPORTS, n));
  writeFileSync(path.join(outDir, 'load.cjs'), LOADER_CJS);
  writeFileSync(path.join(outDir, 'load.js'), LOADER);
  writeFileSync(path.join(distDir, API_ENTRY), apiStub(names));
  writeFileSync(path.join(distDir, CLI_ENTRY), CLI_STUB);
  writeFileSync(path.join(distDir, CLI_COMMAND), CLI_STUB_CJS, { mode: 0o755 });
  for (const file of [API_ENTRY, CLI_ENTRY]) rmSync(path.join(distDir, `${file}.map`), { force: true }); // tsc's maps are for the files just replaced
  return [bundle, path.join(outDir, CODE_CACHE_CJS), path.join(outDir, 'load.cjs'), path.join(outDir, 'load.js'), path.join(distDir, CLI_COMMAND)];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const distDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  await bundleApp(distDir);
  console.log(`bundled the gateway into ${path.relative(process.cwd(), path.join(distDir, 'app', APP_BUNDLE)) || APP_BUNDLE}`);
}
