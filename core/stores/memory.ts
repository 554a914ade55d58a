/**
 * The embedded store: one process's counters in a bounded LRU. Expiry is lazy (checked
 * on read against the store's clock), so there are no timers or sweeps, and the LRU bound
 * keeps memory flat however many identities pass through.
 */
import { LRUCache } from 'lru-cache';
import type { AtomicScript, Cells, Store } from './types.js';

interface Entry {
  value: number;
  expiresAt: number;
}

export interface MemoryStoreOptions {
  /** Most keys kept; the least recently used is forgotten first. */
  maxKeys?: number;
  /** Milliseconds since the epoch; injectable so tests can step time. */
  clock?: () => number;
}

export class MemoryStore implements Store {
  readonly type = 'memory';
  readonly failMode = 'open' as const;
  private readonly entries: LRUCache<string, Entry>;
  private readonly clock: () => number;
  private readonly cells = new MemoryCells();

  constructor(options: MemoryStoreOptions = {}) {
    this.entries = new LRUCache({ max: options.maxKeys ?? 100_000 });
    this.clock = options.clock ?? Date.now;
  }

  run<R>(script: AtomicScript<R>, group: string, keys: readonly string[], args: readonly number[]): R {
    // Single-threaded and synchronous: the script runs as one step, like a Lua script in Redis.
    const now = this.clock();
    const cells = this.cells;
    cells.bind(this.entries, keys.map((k) => `${group}\u0000${k}`), now);
    try {
      return script.local(cells, args, now);
    } finally {
      cells.bind(this.entries, [], 0);
    }
  }

  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  /** Keys held now (expired ones included until touched); for tests and diagnostics. */
  get size(): number {
    return this.entries.size;
  }
}

/** One reusable view over the keys of the script being run (no allocation per cell). */
class MemoryCells implements Cells {
  private entries!: LRUCache<string, Entry>;
  private keys: readonly string[] = [];
  private now = 0;

  bind(entries: LRUCache<string, Entry>, keys: readonly string[], now: number): void {
    this.entries = entries;
    this.keys = keys;
    this.now = now;
  }

  get(index: number): number | undefined {
    const key = this.keys[index];
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(index: number, value: number, ttlMs: number): void {
    this.entries.set(this.keys[index], { value, expiresAt: this.now + ttlMs });
  }

  delete(index: number): void {
    this.entries.delete(this.keys[index]);
  }
}
