/**
 * V8's `WebAssembly` global, which the libs this project compiles against (ES2023, no DOM,
 * @types/node 20) do not declare: the parts the gateway uses, typed once.
 */

/** A compiled module, opaque here. */
export type WasmModule = object;

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** What a module imports, as `WebAssembly.Module.imports` lists it. */
export interface WasmImport {
  module: string;
  name: string;
  kind: string;
}

interface WasmApi {
  Module: {
    new (bytes: Uint8Array): WasmModule;
    imports(module: WasmModule): WasmImport[];
  };
  Instance: new (module: WasmModule, imports?: Record<string, Record<string, () => number>>) => { readonly exports: unknown };
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
