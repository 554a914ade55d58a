/**
 * `import()` of a module named at run time: a plugin, a single-writer kind, an optional
 * package. The built gateway runs from one CommonJS bundle that `core/deps/code-cache.ts`
 * compiles with `vm.Script` (so it can use a V8 code cache), and an `import()` in such code
 * has no module loader to call. The bundle's loader (`dist/app/load.cjs`, compiled by Node)
 * hands its own `import` in through {@link setImporter}; run from source, this module's
 * `import()` is used.
 */
type Importer = (specifier: string) => Promise<unknown>;

let importer: Importer = (specifier) => import(specifier);

/** Used by the bundle's loader (`dist/app/load.cjs`) before anything imports. */
export function setImporter(fn: Importer): void {
  importer = fn;
}

/** `import(specifier)`: give absolute file URLs or package names (relative ones would resolve from the caller's loader). */
export function dynamicImport(specifier: string): Promise<unknown> {
  return importer(specifier);
}
