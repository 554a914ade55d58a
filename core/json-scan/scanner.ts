/**
 * The WebAssembly scanner (strings.wat) as the gateway holds it: one instance that bodies
 * share, its memory grown to the largest body it took up to {@link KEEP_MEMORY}; a body
 * needing more gets an instance of its own, let go with it (a memory cannot shrink).
 */
import { STRINGS_WASM } from './strings-wasm.js';
import { wasm, type WasmMemory, type WasmModule } from '../wasm.js';

export interface Scanner {
  readonly memory: WasmMemory;
  /** Where the text goes in memory (the escape table is below it). */
  readonly text: { readonly value: number };
  /** Set by skim: it saw a \u escape of U+0080 or above. */
  readonly beyond: { readonly value: number };
  skim(end: number, out: number, rec: number, minLong: number, spacing: number): number;
  escapesBeyondAscii(end: number): number;
  tape(end: number, tape: number, stack: number, stackEnd: number): number;
}

/** Memory the shared scanner may grow to. */
const KEEP_MEMORY = 8 * 1024 * 1024;
const PAGE = 65536;

let compiled: WasmModule | undefined;
let kept: Scanner | undefined;

/** A new scanner; the module is compiled for the first body that needs it, not at start-up (~0.4 ms). */
function instantiate(): Scanner {
  compiled ??= new wasm.Module(STRINGS_WASM);
  return new wasm.Instance(compiled).exports as Scanner;
}

/** A scanner whose memory holds `room` bytes from where its text goes. */
export function scannerFor(room: number): Scanner {
  const scanner = room <= KEEP_MEMORY ? (kept ??= instantiate()) : instantiate();
  const memory = scanner.memory;
  const bytes = scanner.text.value + room;
  if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
  return scanner;
}

/** `n` rounded up to a multiple of 16 (a SIMD block). */
export const align = (n: number): number => (n + 15) & ~15;
