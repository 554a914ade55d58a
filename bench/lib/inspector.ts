/**
 * Live heap of a process under test, read over the V8 inspector protocol: the process is
 * started with `--inspect=127.0.0.1:0`, and a full GC comes before each reading, so the
 * figure is what is really retained — unlike RSS, which mostly shows how far the heap
 * has grown at some point in the process's past. A process started with
 * {@link INSPECT_ON_SIGNAL} instead opens its inspector only when asked (`liveMemoryNow`),
 * so what it ran before was not measured with one attached.
 */
import { writeFileSync } from 'node:fs';
import { WebSocket } from 'undici';
import { withinTimeLimit } from '../../core/plugins.js';
import type { Started } from './proc.js';

export interface LiveMemory {
  /** JavaScript heap in use after a full GC. */
  heap: number;
  /** Memory of Buffers and other objects V8 holds outside its heap, after the same GC. */
  external: number;
}

export interface HeapReader {
  liveMemory(): Promise<LiveMemory>;
  /** Write a heap snapshot (Chrome DevTools format) to `file`. */
  snapshot(file: string): Promise<void>;
  /**
   * Bytes allocated while `during` runs, by allocating function (V8's sampling heap
   * profiler, counting objects already collected too): allocation volume, not retention.
   * With `callers` > 0 a site is named with that many calling functions after it (` < `):
   * a `slice` or `join` told apart by who asked for it.
   */
  allocations(during: () => Promise<void>, samplingInterval?: number, callers?: number): Promise<Map<string, number>>;
  close(): void;
}

const BANNER = /Debugger listening on (ws:\/\/\S+)/;

/** The inspector's WebSocket URL, as the child prints it on stderr (perhaps already has). */
function inspectorUrl(s: Started): Promise<string> {
  const printed = BANNER.exec(s.stderr());
  if (printed) return Promise.resolve(printed[1]);
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = BANNER.exec(s.stderr());
      if (m) {
        s.child.stderr!.off('data', onData);
        resolve(m[1]);
      }
    };
    s.child.stderr!.on('data', onData);
    s.child.once('exit', (code) => reject(new Error(`exited ${code} before its inspector listened`)));
  });
}

/** Connect to a child started with `--inspect=127.0.0.1:0`. */
export async function heapReader(s: Started): Promise<HeapReader> {
  const ws = new WebSocket(await inspectorUrl(s));
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('inspector connection failed'));
  });
  let nextId = 1;
  const waiting = new Map<number, (result: Record<string, unknown>) => void>();
  let snapshotChunks: string[] = [];
  ws.onmessage = (ev) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; method?: string; params?: { chunk?: string }; result?: Record<string, unknown> };
    if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') snapshotChunks.push(msg.params?.chunk ?? '');
    if (msg.id === undefined) return;
    waiting.get(msg.id)?.(msg.result ?? {});
    waiting.delete(msg.id);
  };
  const call = (method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async liveMemory() {
      await call('HeapProfiler.collectGarbage');
      const r = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
      const usage = JSON.parse(String((r.result as { value?: unknown } | undefined)?.value)) as { heapUsed: number; external: number };
      return { heap: usage.heapUsed, external: usage.external };
    },
    async snapshot(file) {
      snapshotChunks = [];
      await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      writeFileSync(file, snapshotChunks.join(''));
      snapshotChunks = [];
    },
    async allocations(during, samplingInterval = 256, callers = 0) {
      await call('HeapProfiler.startSampling', { samplingInterval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      await during();
      const { profile } = (await call('HeapProfiler.stopSampling')) as { profile: { head: SamplingNode } };
      const bytes = new Map<string, number>();
      const walk = (n: SamplingNode, stack: string[]): void => {
        const f = n.callFrame;
        const where = f.url.replace(/^.*\/(dist|node_modules|bench)\//, '$1/').replace('node:internal/', '');
        const frame = `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
        const name = callers > 0 ? [frame, ...stack.slice(-callers).reverse()].join(' < ') : frame;
        if (n.selfSize > 0) bytes.set(name, (bytes.get(name) ?? 0) + n.selfSize);
        stack.push(frame);
        for (const c of n.children) walk(c, stack);
        stack.pop();
      };
      walk(profile.head, []);
      return bytes;
    },
    close: () => ws.close(),
  };
}

/** The Node flag that makes a process open its inspector on SIGUSR1 (not at start), on a free loopback port: what {@link liveMemoryNow} needs. */
export const INSPECT_ON_SIGNAL = '--inspect-port=127.0.0.1:0';

/**
 * Live memory of a child started with {@link INSPECT_ON_SIGNAL}: SIGUSR1 opens its
 * inspector, then a full GC and a reading. Rejects after `limitMs` (a Node built without an
 * inspector never opens one) rather than leave the caller waiting.
 */
export function liveMemoryNow(s: Started, limitMs = 15_000): Promise<LiveMemory> {
  process.kill(s.pid, 'SIGUSR1');
  const reading = (async () => {
    const reader = await heapReader(s);
    try {
      return await reader.liveMemory();
    } finally {
      reader.close();
    }
  })();
  return withinTimeLimit(reading, limitMs, () => `no inspector reading from ${s.pid} within ${limitMs} ms`);
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}
