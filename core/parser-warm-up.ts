/**
 * undici's HTTP parser, llhttp, is WebAssembly, and V8 compiles WebAssembly lazily (its
 * default, `--wasm-lazy-compilation`): compiling the module ahead (`pool.ts`) validates it,
 * and the first response a pool parses compiles each parser function it reaches — ~6 ms,
 * and ~1 ms more to instantiate, on the first upstream request of every process here.
 * Parsing two canned responses with an instance of our own compiles those functions
 * before any request needs them: compiled code belongs to the module, which every instance
 * shares, undici's included (its `new WebAssembly.Module` of the same bytes finds ours in
 * V8's cache). Measured alone: undici's first parse 6–9 → ~0.2 ms after this; a fresh
 * gateway's first request (bench config, idle after start, 9 starts each): 31 → 19 ms at
 * the client, its `upstream_ms` 23 → 12.
 */
import { wasm, type WasmMemory, type WasmModule } from './wasm.js';

interface LlhttpExports {
  memory: WasmMemory;
  malloc(size: number): number;
  free(ptr: number): void;
  llhttp_alloc(type: number): number;
  llhttp_free(parser: number): void;
  llhttp_execute(parser: number, data: number, length: number): number;
}

/** llhttp's `TYPE.RESPONSE` and `ERROR.OK`. */
const RESPONSE = 2;
const OK = 0;

const JSON_BODY = '{"ok":true}';
const EVENT = 'event: ping\ndata: {"a":1}\n\n';

/** What an upstream sends: a JSON answer with a length, and a stream in chunks. */
const CANNED = [
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${JSON_BODY.length}\r\nrequest-id: req_1\r\n\r\n${JSON_BODY}`,
  `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n${EVENT.length.toString(16)}\r\n${EVENT}\r\n0\r\n\r\n`,
].map((text) => Buffer.from(text, 'latin1'));

/**
 * Parse {@link CANNED} with a fresh instance of `module` (llhttp, as undici's client builds
 * it); every callback it imports does nothing. True when both parsed whole; false when the
 * module is not the llhttp this knows (its imports or exports differ), or a parse failed.
 */
export function warmParser(module: WasmModule): boolean {
  try {
    const env: Record<string, () => number> = {};
    for (const imported of wasm.Module.imports(module)) {
      if (imported.module !== 'env' || imported.kind !== 'function') return false;
      env[imported.name] = () => 0;
    }
    const parser = new wasm.Instance(module, { env }).exports as unknown as LlhttpExports;
    return CANNED.every((bytes) => parseWhole(parser, bytes));
  } catch {
    return false; // not the llhttp this knows: undici compiles it on first use, as it would have
  }
}

function parseWhole(llhttp: LlhttpExports, bytes: Buffer): boolean {
  const parser = llhttp.llhttp_alloc(RESPONSE);
  const at = llhttp.malloc(bytes.length);
  try {
    new Uint8Array(llhttp.memory.buffer, at, bytes.length).set(bytes);
    return llhttp.llhttp_execute(parser, at, bytes.length) === OK;
  } finally {
    llhttp.free(at);
    llhttp.llhttp_free(parser);
  }
}
