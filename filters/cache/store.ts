/**
 * The entries: `lru-cache`s kept in `env.shared`, one per set of bounds in use, so a reload
 * keeps what is cached. Bounded by entry count and by bytes (each entry weighs its body plus
 * a fixed overhead). Each filter instance takes the cache of its bounds when it is created
 * and lets go of it when it closes (its pipeline retired, or its config failed to build); a
 * cache nothing holds any more is dropped. So a config that changes the bounds starts an
 * empty cache once it serves, and one that fails to build changes nothing.
 */
import { LRUCache } from '../../core/deps/lru-cache.js';
import type { PluginEnv } from '../../core/index.js';

/** One stored answer. */
export interface CacheEntry {
  /** The body exactly as the client first received it. */
  readonly body: Buffer;
  readonly mode: 'json' | 'sse';
  readonly contentType: string;
  /** Epoch milliseconds, for the `age` header. */
  readonly storedAt: number;
  /** The upstream's own `Age` on the answer, in seconds: a hit's `age` counts on from it (RFC 9111 §4.2.3). */
  readonly initialAge: number;
  /** Epoch milliseconds its TTL runs out: one pushed out by the bounds after that counts as expired. */
  readonly expiresAt: number;
}

/** Key, bookkeeping and the LRU's own per-entry cost, roughly. */
const ENTRY_OVERHEAD = 256;

export interface StoreBounds {
  maxEntries: number;
  maxBytes: number;
  maxEntryBytes: number;
}

/** `gateway_cache_evictions_total`: the registry's one counter, whichever config asked for it. */
interface Evictions {
  inc(labels: { reason: string }): void;
}

interface Held {
  readonly lru: LRUCache<string, CacheEntry>;
  /** Filter instances holding it, in pipelines serving, draining or being built. */
  users: number;
}

class Holder {
  private readonly caches = new Map<string, Held>();

  constructor(private readonly evictions: Evictions) {}

  acquire(b: StoreBounds): { lru: LRUCache<string, CacheEntry>; release(): void } {
    const id = `${b.maxEntries}/${b.maxBytes}/${b.maxEntryBytes}`;
    let held = this.caches.get(id);
    if (!held) {
      const lru = new LRUCache<string, CacheEntry>({
        max: b.maxEntries,
        maxSize: b.maxBytes,
        maxEntrySize: b.maxEntryBytes + ENTRY_OVERHEAD,
        sizeCalculation: (entry) => entry.body.length + ENTRY_OVERHEAD,
        // No ttlAutopurge (a timer per entry): an expired entry goes when asked for, purged
        // before a scrape, pushed out by the bounds or replaced (a `no-cache` request skips
        // the lookup); whichever way, it counts as `expire`.
        dispose: (value, _key, reason) => {
          const expired = reason === 'expire' || ((reason === 'evict' || reason === 'set') && value.expiresAt <= Date.now());
          if (expired) this.evictions.inc({ reason: 'expire' });
          else if (reason === 'evict') this.evictions.inc({ reason });
        },
      });
      held = { lru, users: 0 };
      this.caches.set(id, held);
    }
    held.users++;
    const h = held;
    let released = false;
    return {
      lru: h.lru,
      release: () => {
        if (released) return;
        released = true;
        // Not cleared (a walk over every entry): nothing uses it any more, so it is garbage once dropped.
        if (--h.users === 0 && this.caches.get(id) === h) this.caches.delete(id);
      },
    };
  }

  /** Bytes and entries held, over every cache in use (two while a reload that changed the bounds drains); expired ones are dropped first. */
  totals(): { bytes: number; entries: number } {
    let bytes = 0;
    let entries = 0;
    for (const { lru } of this.caches.values()) {
      lru.purgeStale(); // a walk over the entries, once per gauge per scrape
      bytes += lru.calculatedSize;
      entries += lru.size;
    }
    return { bytes, entries };
  }

  close(): void {
    for (const { lru } of this.caches.values()) lru.clear();
    this.caches.clear();
  }
}

/**
 * The runtime's cache for `bounds`, with eviction metrics wired; `release` when the filter
 * that asked closes.
 */
export function sharedCache(env: PluginEnv, bounds: StoreBounds): { lru: LRUCache<string, CacheEntry>; release(): void } {
  const evictions = env.metrics.counter({ name: 'gateway_cache_evictions_total', help: 'Cache entries removed before being read again, by reason (evict: pushed out by the bounds, expire: TTL ran out)', labelNames: ['reason'] });
  const holder = env.shared.get('cache.responses', () => new Holder(evictions));
  // Read at scrape time from the caches in use; the first registration's collect is the one kept, and the holder is the runtime's.
  env.metrics.gauge({
    name: 'gateway_cache_bytes',
    help: 'Bytes of response bodies held by the response cache, overhead included',
    collect() {
      this.set(holder.totals().bytes);
    },
  });
  env.metrics.gauge({
    name: 'gateway_cache_entries',
    help: 'Entries held by the response cache',
    collect() {
      this.set(holder.totals().entries);
    },
  });
  return holder.acquire(bounds);
}
