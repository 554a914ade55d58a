/**
 * The embedded store: one process's counters in a bounded LRU of groups (one identity's
 * keys together). Expiry is lazy (checked on read against the store's clock), so there
 * are no timers, and the LRU bound keeps memory flat however many identities pass through.
 * A group that gains a key drops its expired ones then: keys named by period (a budget's
 * `d:YYYY-MM-DD`) would otherwise pile up in a long-lived group, one per period.
 */
import { GrowingLru } from './growing-lru.js';
import type { AtomicScript, Cells, Store } from './types.js';

interface Entry {
  value: number;
  expiresAt: number;
}

/** A group's cells by key name: one LRU lookup per script run, not one per key. */
type Group = Record<string, Entry | undefined>;

export interface MemoryStoreOptions {
  /** Most groups (one identity and scope each) kept; the least recently used is forgotten first. */
  maxGroups?: number;
  /** Milliseconds since the epoch; injectable so tests can step time. */
  clock?: () => number;
}

export class MemoryStore implements Store {
  readonly type = 'memory';
  readonly failMode = 'open' as const;
  private readonly groups: GrowingLru<string, Group>;
  private readonly clock: () => number;
  private readonly cells = new MemoryCells();

  constructor(options: MemoryStoreOptions = {}) {
    this.groups = new GrowingLru(options.maxGroups ?? 100_000);
    this.clock = options.clock ?? Date.now;
  }

  run<R>(script: AtomicScript<R>, group: string, keys: readonly string[], args: readonly number[]): R {
    // Single-threaded and synchronous: the script runs as one step, like a Lua script in Redis.
    const now = this.clock();
    let cellsOf = this.groups.get(group);
    if (!cellsOf) this.groups.set(group, (cellsOf = Object.create(null) as Group));
    const cells = this.cells;
    cells.bind(cellsOf, keys, now);
    try {
      return script.local(cells, args, now);
    } finally {
      cells.bind(EMPTY, NO_KEYS, 0);
    }
  }

  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }

  async close(): Promise<void> {
    this.groups.clear();
  }

  /** Groups held now; for tests and diagnostics. */
  get size(): number {
    return this.groups.size;
  }

  /** Keys a group holds now, expired ones included until swept; for tests and diagnostics. */
  keyCount(group: string): number {
    const cellsOf = this.groups.peek(group);
    return cellsOf ? Object.keys(cellsOf).length : 0;
  }
}

const EMPTY: Group = Object.create(null) as Group;
const NO_KEYS: readonly string[] = [];

/** One reusable view over the keys of the script being run (no allocation per cell). */
class MemoryCells implements Cells {
  private group: Group = EMPTY;
  private keys: readonly string[] = [];
  private now = 0;

  bind(group: Group, keys: readonly string[], now: number): void {
    this.group = group;
    this.keys = keys;
    this.now = now;
  }

  get(index: number): number | undefined {
    const key = this.keys[index];
    const e = this.group[key];
    if (!e) return undefined;
    if (e.expiresAt <= this.now) {
      this.group[key] = undefined;
      return undefined;
    }
    return e.value;
  }

  set(index: number, value: number, ttlMs: number): void {
    const key = this.keys[index];
    const e = this.group[key];
    if (e) {
      e.value = value;
      e.expiresAt = this.now + ttlMs;
      return;
    }
    // A new key is rare (a new identity, a new period), so sweeping here costs the hot path nothing.
    if (!(key in this.group)) this.sweepExpired();
    this.group[key] = { value, expiresAt: this.now + ttlMs };
  }

  private sweepExpired(): void {
    const group = this.group;
    for (const key in group) {
      const e = group[key];
      if (!e || e.expiresAt <= this.now) delete group[key];
    }
  }

  delete(index: number): void {
    this.group[this.keys[index]] = undefined;
  }
}
