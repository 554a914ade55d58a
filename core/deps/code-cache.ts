/**
 * The build's own CommonJS files (the vendor bundles, the precompiled validators) loaded
 * with a V8 code cache made by the build after a start-up ran them (`core/build/code-cache.ts`).
 *
 * V8 compiles a function the first time it is called. A cache made after running holds
 * those functions' bytecode too, so start-up skips compiling what it runs of yaml's parser,
 * prom-client and the config validators: ~9 ms of a ~320 ms start here (see README,
 * Start-up). Node 20 has no cache for ES modules, so the gateway's own code is bundled as
 * CommonJS too (`core/build/bundle-app.ts`) and loaded here.
 *
 * A cache is used only for the exact bytes it was made from: it starts with the sha256 of
 * its source (V8's own check compares lengths only). One V8 refuses another's cache, or a
 * cache made under other flags; either way the file compiles as it would without one. For
 * such starts the operator can name a directory of the gateway's own
 * (`AI_GATEWAY_CODE_CACHE_DIR`, `code-cache-dir.ts`): caches there are read first, and a
 * start that could not use one writes it there (`writeCodeCachesToDir`).
 */
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { commonJsScript } from './commonjs-wrapper.js';
import { readScratch } from './scratch-read.js';
import { cacheFileIn, CODE_CACHE_DIR_ENV, openCacheDir, readTrusted, writeCacheFile, type CacheDirState } from './code-cache-dir.js';

/** The cache of `file` is `file + CODE_CACHE_SUFFIX`. */
export const CODE_CACHE_SUFFIX = '.v8cache';

/** For the build only: a gateway started with this set to `1` writes its caches as it exits. */
export const WRITE_CODE_CACHE_ENV = 'AI_GATEWAY_WRITE_CODE_CACHE';

const HASH_BYTES = 32;

interface Loaded {
  exports: unknown;
  /** What a cache is made from; none when Node's own `require` loaded the file (see below). */
  compiled: { script: vm.Script; sourceHash: Buffer } | undefined;
  cache: CacheUse;
}

/** What became of a file's cache: used, refused by V8, made from other bytes, or none. */
export type CacheUse = 'used' | 'rejected' | 'stale' | 'none';

/**
 * Every file loaded here, once each (as `require` keeps a module once), and the operator's
 * cache directory. Kept on `globalThis`: the app bundle holds a copy of this module and its
 * loader uses another (`dist/app/code-cache.cjs`), and both must see one set of files (the
 * bundle itself is one of them).
 */
const REGISTRY = Symbol.for('ai-gateway.code-cache');
const shared = globalThis as { [REGISTRY]?: { loaded: Map<string, Loaded>; dir: CacheDirState } };
const firstCopy = shared[REGISTRY] === undefined;
const { loaded, dir: cacheDir } = (shared[REGISTRY] ??= { loaded: new Map(), dir: openCacheDir(process.env[CODE_CACHE_DIR_ENV]) });

/**
 * `--enable-source-maps` given to Node, on its command line or in NODE_OPTIONS. (Not
 * `process.sourceMapsEnabled`: test runners turn that on in every process they start.)
 */
const SOURCE_MAPS_ASKED = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].includes('--enable-source-maps');

type CommonJsWrapper = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;

/** `require(file)` for a CommonJS file of the build's, with its code cache when there is a current one. */
export function requireCached(file: string): unknown {
  const known = loaded.get(file);
  if (known) return known.exports;
  if (SOURCE_MAPS_ASKED && existsSync(`${file}.map`)) {
    // Node maps stack traces only through code its own loaders compiled: with
    // --enable-source-maps, a file with a map is loaded by Node's require, without a cache.
    const exports: unknown = createRequire(file)(file);
    loaded.set(file, { exports, compiled: undefined, cache: 'none' });
    return exports;
  }
  // The source's bytes and then its cache's share one scratch buffer: the text is copied out first.
  const source = readScratch(file)!;
  const sourceHash = createHash('sha256').update(source).digest();
  const text = source.toString('utf8');
  // The directory's cache first: it was made under this runtime's flags, the build's maybe not.
  const fromDir = cacheDir.dir === undefined ? undefined : readCache(cacheFileIn(cacheDir.dir, file, sourceHash), sourceHash, readTrusted);
  const { cachedData, stale } = fromDir?.cachedData ? fromDir : readCache(file + CODE_CACHE_SUFFIX, sourceHash);
  // Node's own CommonJS wrapper, written into the build's bundles or added here. Such code
  // has no loader for `import()`: see core/dynamic-import.ts.
  const script = new vm.Script(commonJsScript(text), { filename: file, cachedData });
  const cache: CacheUse = cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : stale ? 'stale' : 'none';
  const module = { exports: {} as unknown };
  (script.runInThisContext() as CommonJsWrapper).call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  loaded.set(file, { exports: module.exports, compiled: { script, sourceHash }, cache });
  return module.exports;
}

function readCache(cacheFile: string, sourceHash: Buffer, read = (f: string) => readScratch(f, 'ifThere')): { cachedData?: Buffer; stale: boolean } {
  const bytes = read(cacheFile);
  if (bytes === undefined) return { stale: false };
  if (bytes.length <= HASH_BYTES || !bytes.subarray(0, HASH_BYTES).equals(sourceHash)) return { stale: true };
  return { cachedData: bytes.subarray(HASH_BYTES), stale: false };
}

/** Each file loaded through {@link requireCached} so far, and what became of its cache. */
export function codeCacheUse(): Map<string, CacheUse> {
  return new Map([...loaded].map(([file, l]) => [file, l.cache]));
}

/**
 * Write a cache beside every file loaded so far, holding what has run of it (the build
 * calls this after a start-up). Returns the files written.
 */
export function writeCodeCaches(): string[] {
  const written: string[] = [];
  for (const [file, { compiled }] of loaded) {
    if (!compiled) continue;
    writeFileSync(file + CODE_CACHE_SUFFIX, Buffer.concat([compiled.sourceHash, compiled.script.createCachedData()]));
    written.push(file);
  }
  return written;
}

/** The operator's cache directory, when one is named and fit for use (or why it is not). */
export function codeCacheDir(): CacheDirState {
  return cacheDir;
}

/**
 * Write to the operator's directory a cache of every file loaded so far that started
 * without a usable one (refused by V8, made from other bytes, or none), holding what has
 * run of it. The command calls this once it has started; returns the files written.
 */
export function writeCodeCachesToDir(): string[] {
  if (cacheDir.dir === undefined) return [];
  const written: string[] = [];
  for (const [file, { compiled, cache }] of loaded) {
    if (!compiled || cache === 'used') continue;
    writeCacheFile(cacheFileIn(cacheDir.dir, file, compiled.sourceHash), Buffer.concat([compiled.sourceHash, compiled.script.createCachedData()]));
    written.push(file);
  }
  return written;
}

if (firstCopy && process.env[WRITE_CODE_CACHE_ENV] === '1') process.once('exit', () => void writeCodeCaches());
