/**
 * undici's `Pool`, the one undici value the runtime needs. undici's package entry loads
 * everything it ships — fetch, WebSocket, EventSource, caches, mocks, proxy agents — about
 * 110 modules and ~40 ms of CPU at start-up; the upstream pools need `Pool` and the
 * request API that the entry copies onto `Dispatcher.prototype`. So this loads those files
 * as the entry does: from the build's bundle of them (`UNDICI_PARTS`, one file with a code
 * cache) when it was made from the installed undici, else from node_modules, else the entry
 * if undici's layout ever differs (the test beside this file fails then, so an upgrade that
 * moves them is noticed).
 *
 * The bundle is a copy of undici's code: its `Pool` is not the class `import { Pool } from
 * 'undici'` gives a plugin, though it is the same version and behaves the same. Nothing in
 * the gateway compares classes; undici's errors are told apart by `code`.
 */
import { createRequire } from 'node:module';
import type { Pool as PoolClass } from 'undici';
import { bundleFile, UNDICI_PARTS } from './deps/bundled.js';
import { requireCached } from './deps/code-cache.js';
import { warmParser } from './parser-warm-up.js';
import { wasm, type WasmModule } from './wasm.js';

const load = createRequire(import.meta.url);

/** What {@link UNDICI_PARTS} names, loaded. */
interface UndiciParts {
  Dispatcher: { prototype: Record<string, unknown> };
  Pool: typeof PoolClass;
  api: Record<string, unknown>;
  llhttpSimd: Uint8Array;
}

/** The compiled module (an opaque WebAssembly.Module), once {@link loadPool} has asked for it. */
let parserAhead: Promise<WasmModule | undefined> | undefined;

/**
 * undici compiles its HTTP parser (llhttp, WebAssembly) synchronously when a pool opens its
 * first connection: ~5 ms of the first upstream request here. Compiled ahead with
 * `WebAssembly.compile`, on one of V8's background threads while start-up goes on, that
 * later compile finds the module in V8's per-process cache (keyed by the bytes) and takes
 * ~0.1 ms. The promise keeps the module alive, and with it the cache's entry. Not where
 * undici would compile its other parser instead (the same checks as its client's).
 */
function compileParserAhead(bytes: Uint8Array | undefined): void {
  if (parserAhead || !(bytes instanceof Uint8Array) || process.env.UNDICI_NO_WASM_SIMD === '1' || process.arch === 'ppc64') return;
  parserAhead = wasm.compile(bytes).catch(() => undefined); // undici reports its own failure, as it would have
}

/**
 * Once the compile ahead is done, compile the parser's code too (`parser-warm-up.ts`), so
 * the first upstream response does not. False when no pool was loaded, or the parser is not
 * the llhttp that knows.
 */
export async function warmParserAhead(): Promise<boolean> {
  const module = await parserAhead;
  return module !== undefined && warmParser(module);
}

/** The parser compile {@link loadPool} started, if it did. For tests. */
export function parserCompiledAhead(): Promise<WasmModule | undefined> | undefined {
  return parserAhead;
}

/** `Pool` with the request API on its prototype, as undici's entry leaves it; undefined if these are not those. */
function withApi({ Dispatcher, Pool, api }: UndiciParts): typeof PoolClass | undefined {
  // What undici's index.js does; the same functions, so loading the entry later changes nothing.
  if (typeof Dispatcher.prototype.request !== 'function') Object.assign(Dispatcher.prototype, api);
  return typeof Pool === 'function' && Pool.prototype instanceof (Dispatcher as unknown as Function) && typeof Pool.prototype.request === 'function' ? Pool : undefined;
}

/** {@link withApi}'s Pool, its parser compiling ahead; undefined if these parts are not undici's. */
function poolOf(parts: UndiciParts): typeof PoolClass | undefined {
  const Pool = withApi(parts);
  if (Pool) compileParserAhead(parts.llhttpSimd);
  return Pool;
}

/** From `bundled` (the build's bundle, when current; null: none), else from undici's files, else its entry. Exported for tests. */
export function loadPool(bundled: string | null = bundleFile('undici') ?? null): typeof PoolClass {
  const fromBundle = bundled ? poolOf(requireCached(bundled) as UndiciParts) : undefined;
  if (fromBundle) return fromBundle;
  try {
    const Pool = poolOf(Object.fromEntries(Object.entries(UNDICI_PARTS).map(([name, file]) => [name, load(`undici/${file}`)])) as UndiciParts);
    if (Pool) return Pool;
  } catch {
    // the layout moved: the entry below is always right
  }
  return (load('undici') as typeof import('undici')).Pool;
}

let pool: typeof PoolClass | undefined;

/** undici's Pool class, loaded on first use. */
export function poolClass(): typeof PoolClass {
  return (pool ??= loadPool());
}
