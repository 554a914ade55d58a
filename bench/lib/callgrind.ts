/**
 * A server run under valgrind's callgrind, which counts the instructions it executes in user
 * space: the same count for the same work whatever else the machine is doing, where CPU
 * seconds on this shared host move by 10–20 % between runs. Counting starts off (start-up and
 * warm-up run uninstrumented, ~5× faster) and is switched on around each measured window.
 *
 * What it leaves out: time in the kernel (syscalls, loopback TCP), the same for both proxies
 * per request, so a ratio of instructions is stricter than the ratio of CPU seconds.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listeningPort, SERVER_NODE_FLAGS, spawnPinned, type Started } from './proc.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const run = promisify(execFile);

export interface Counted extends Started {
  /** Zero the counters and count from now on. */
  countFromZero(): Promise<void>;
  /** Write what was counted since {@link countFromZero} to a dump, stop counting, and read the dump. */
  dumpAndPause(): Promise<Profile>;
}

/** Self instructions by function name, and their total. */
export interface Profile {
  total: number;
  /** Function → instructions executed in it (not in what it called). Unnamed JIT code is `0x…`. */
  self: Map<string, number>;
}

/**
 * `node args` under callgrind, pinned to `core`. Dumps go to `dir/<name>.<pid>.out.<n>`.
 * V8's JIT code is followed: valgrind re-translates code written at run time (its default
 * `--smc-check=all-non-file` covers V8's anonymous code pages).
 */
export function spawnCounted(name: string, core: number, dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Counted {
  const valgrind = ['--tool=callgrind', '--instr-atstart=no', '--dump-line=no', `--callgrind-out-file=${path.join(dir, `${name}.%p.out`)}`, process.execPath];
  // --perf-basic-prof: V8 writes each code object's address and name to /tmp/perf-PID.map, which names the JIT code.
  const s = spawnPinned(core, [...valgrind, '--perf-basic-prof', ...args], env, 'valgrind');
  const perfMap = `/tmp/perf-${s.pid}.map`;
  let dumps = 0;
  const control = async (...flags: string[]): Promise<void> => {
    await run('callgrind_control', [...flags, String(s.pid)], { timeout: 60_000 });
  };
  return {
    ...s,
    stop: async () => {
      await s.stop();
      // Beside the dumps (KEEP=… keeps them), to name JIT code in callgrind_annotate's output.
      if (existsSync(perfMap)) cpSync(perfMap, path.join(dir, `${name}.${s.pid}.perf.map`));
      rmSync(perfMap, { force: true });
    },
    countFromZero: async () => {
      await control('--instr=on');
      await control('--zero');
    },
    dumpAndPause: async () => {
      await control('--dump');
      await control('--instr=off');
      dumps++;
      const p = parseProfile(readFileSync(path.join(dir, `${name}.${s.pid}.out.${dumps}`), 'utf8'));
      return existsSync(perfMap) ? nameJitCode(p, readFileSync(perfMap, 'utf8')) : p;
    },
  };
}

/**
 * The mock upstream on core 1 and the bare proxy, counted, on core 0: what both instruction
 * benches start first. Each goes into `started` as soon as it runs, for the caller to stop.
 */
export async function startMockAndCountedBare(dir: string, started: Started[]): Promise<{ mockUrl: string; bare: Counted; bareUrl: string }> {
  const mock = spawnPinned(1, ['--import=tsx', path.join(here, 'mock-upstream.ts'), '0']);
  started.push(mock);
  const mockUrl = `http://127.0.0.1:${await listeningPort(mock)}`;
  const bare = spawnCounted('bare', 0, dir, [...SERVER_NODE_FLAGS, '--import=tsx', path.join(here, 'bare-proxy.ts'), mockUrl, '0']);
  started.push(bare);
  return { mockUrl, bare, bareUrl: `http://127.0.0.1:${await listeningPort(bare)}/v1/messages` };
}

/** Instructions as thousands: `12.3 K`, signed when asked (`+1.0 K`, `−2.5 K`). */
export function kilo(n: number, signed = false): string {
  const text = `${(Math.abs(n) / 1000).toFixed(1)} K`;
  if (!signed) return n < 0 ? `−${text}` : text;
  return n >= 0 ? `+${text}` : `−${text}`;
}

/** A report line: instructions (signed) and a function's name, cut to fit. */
export function functionLine(instructions: number, fn: string): string {
  return `  ${kilo(instructions, true).padStart(10)}  ${fn.length > 110 ? `${fn.slice(0, 107)}…` : fn}`;
}

/**
 * Self cost per function from a callgrind dump. A cost line after `fn=` is that function's
 * own; the one line after `calls=` is the callee's inclusive cost, charged to the callee
 * already, so skipped. Names are compressed: `fn=(12) name` (or `cfn=`) defines 12, `fn=(12)`
 * reuses it.
 */
export function parseProfile(text: string): Profile {
  const names = new Map<string, string>();
  const self = new Map<string, number>();
  let fn = '';
  let skipNext = false;
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('fn=')) {
      fn = compressedName(line.slice(3), names);
      continue;
    }
    if (line.startsWith('cfn=')) {
      compressedName(line.slice(4), names); // a callee's name may be defined here first
      continue;
    }
    if (line.startsWith('calls=')) {
      skipNext = true;
      continue;
    }
    const c = line.charCodeAt(0);
    const isCost = (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42; // digit + - *
    if (!isCost) continue;
    if (skipNext) {
      skipNext = false;
      continue;
    }
    const cost = Number(line.slice(line.indexOf(' ') + 1));
    if (!Number.isFinite(cost)) continue;
    self.set(fn, (self.get(fn) ?? 0) + cost);
    total += cost;
  }
  return { total, self };
}

function compressedName(spec: string, names: Map<string, string>): string {
  const m = /^\((\d+)\)(?: (.*))?$/.exec(spec);
  if (!m) return spec;
  if (m[2] !== undefined) names.set(m[1], m[2]);
  return names.get(m[1]) ?? spec;
}

/**
 * Where an instruction ran. `V8 compiler` is tier-up still going on (a window that shows much
 * of it was not warm); `crypto` runs without SHA-NI under valgrind, whose CPU lacks it, so it
 * reads several times its native cost.
 */
export type Share = 'JavaScript (JIT code)' | 'V8 builtins' | 'garbage collector' | 'V8 compiler' | 'V8 runtime' | 'Node, libuv, llhttp' | 'crypto (OpenSSL)' | 'libc, libstdc++' | 'other';

const GC = /Heap|Scaveng|MarkCompact|Marking|Sweep|Evacuat|MinorMC|RememberedSet|Slot|Collector|Marker|cppgc::|heap::base::/;
const COMPILER = /v8::internal::(compiler|maglev|baseline|interpreter|Parser|Scanner|PreParser|Zone|AstValueFactory|Compiler)|OptimizingCompileDispatcher|CodeGenerator|Assembler/;
const NODE = /^(uv_|uv__|llhttp|ada::|simdutf)|node::/;
const CRYPTO = /^(sha\d+_|SHA\d+_|EVP_|OPENSSL_|ossl_|CRYPTO_|aesni_|HMAC)/;
const LIBC = /^(_int_|_IO_|_itoa|malloc|free|calloc|realloc|mem|str|__|operator|std::|unlink_chunk)/;

export function shareOf(fn: string): Share {
  if (fn.startsWith('0x') || fn.startsWith('JS ')) return 'JavaScript (JIT code)';
  if (fn.startsWith('Builtins_')) return 'V8 builtins';
  if (CRYPTO.test(fn)) return 'crypto (OpenSSL)';
  if (NODE.test(fn) && !fn.includes('v8::internal')) return 'Node, libuv, llhttp';
  if (GC.test(fn)) return 'garbage collector';
  if (COMPILER.test(fn)) return 'V8 compiler';
  if (fn.includes('v8::')) return 'V8 runtime';
  if (LIBC.test(fn)) return 'libc, libstdc++';
  return 'other';
}

/** A profile's instructions without the V8 compiler's: tier-up still going on in a window is warm-up, not the cost of a request. */
export function withoutCompiler(p: Profile): number {
  let compiler = 0;
  for (const [fn, n] of p.self) if (shareOf(fn) === 'V8 compiler') compiler += n;
  return p.total - compiler;
}

/** The window whose count (total, or what `by` reads) is the median of `ps`. */
export function medianWindow(ps: readonly Profile[], by: (p: Profile) => number = (p) => p.total): Profile {
  return [...ps].sort((a, b) => by(a) - by(b))[ps.length >> 1];
}

/**
 * One counted window of `requests` requests sent by `send`, per request. A tenth of them go
 * first uncounted: a first window straight after another process's long warm-up read ~1.5×
 * the later ones.
 */
export async function countPerRequest(server: Counted, send: (requests: number) => Promise<void>, requests: number): Promise<Profile> {
  await send(Math.max(10, Math.round(requests / 10)));
  await server.countFromZero();
  await send(requests);
  const p = await server.dumpAndPause();
  const self = new Map<string, number>();
  for (const [fn, n] of p.self) self.set(fn, n / requests);
  return { total: p.total / requests, self };
}

/**
 * JIT code named from V8's perf map (`--perf-basic-prof` writes `/tmp/perf-PID.map`: start,
 * size and name of each code object, hex): `0x…` functions become `JS <name>`, by the last
 * code object mapped at their address (V8 reuses addresses of code it collected).
 */
export function nameJitCode(p: Profile, perfMap: string): Profile {
  const starts: number[] = [];
  const ends: number[] = [];
  const names: string[] = [];
  const latest = new Map<number, number>();
  for (const line of perfMap.split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (!m) continue;
    const start = parseInt(m[1], 16);
    const i = latest.get(start);
    if (i !== undefined) {
      ends[i] = start + parseInt(m[2], 16);
      names[i] = m[3];
      continue;
    }
    latest.set(start, starts.length);
    starts.push(start);
    ends.push(start + parseInt(m[2], 16));
    names.push(m[3]);
  }
  const order = starts.map((_, i) => i).sort((a, b) => starts[a] - starts[b]);
  const lookup = (addr: number): string | undefined => {
    let lo = 0;
    let hi = order.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[order[mid]] <= addr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && addr < ends[order[found]] ? names[order[found]] : undefined;
  };
  const self = new Map<string, number>();
  for (const [fn, n] of p.self) {
    const name = fn.startsWith('0x') ? lookup(parseInt(fn, 16)) : undefined;
    const key = name === undefined ? fn : `JS ${name.replace(/^JS:/, '').replace(`${process.cwd()}/`, '')}`;
    self.set(key, (self.get(key) ?? 0) + n);
  }
  return { total: p.total, self };
}
