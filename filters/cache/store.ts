/**
 * The entries: one `lru-cache` per runtime, kept in `env.shared` so a reload keeps what
 * is cached. Bounded by entry count and by bytes (each entry weighs its body plus a fixed
 * overhead). A config that changes the bounds starts an empty cache (once it is applied).
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
}

/** Key, bookkeeping and the LRU's own per-entry cost, roughly. */
const ENTRY_OVERHEAD = 256;

export interface StoreBounds {
  maxEntries: number;
  maxBytes: number;
  maxEntryBytes: number;
}

interface Listener {
  onDispose(reason: string): void;
}

class Holder {
  lru: LRUCache<string, CacheEntry> | undefined;
  bounds = '';
  listener: Listener | undefined;

  configure(b: StoreBounds): LRUCache<string, CacheEntry> {
    const id = `${b.maxEntries}/${b.maxBytes}/${b.maxEntryBytes}`;
    if (this.lru && this.bounds === id) return this.lru;
    // The old cache is not cleared: the pipeline that holds it keeps serving from it until
    // it retires (then it is garbage), and keeps serving for good if this config fails to
    // build. Clearing it here emptied the cache of a config a failed reload left in place.
    this.bounds = id;
    this.lru = new LRUCache<string, CacheEntry>({
      max: b.maxEntries,
      maxSize: b.maxBytes,
      maxEntrySize: b.maxEntryBytes + ENTRY_OVERHEAD,
      sizeCalculation: (entry) => entry.body.length + ENTRY_OVERHEAD,
      // Metrics go to the newest filter instance; a retired one has no say.
      dispose: (_value, _key, reason) => this.listener?.onDispose(reason),
    });
    return this.lru;
  }

  close(): void {
    this.lru?.clear();
  }
}

/** The runtime's cache, (re)configured to `bounds`, with eviction metrics wired. */
export function sharedCache(env: PluginEnv, bounds: StoreBounds): { lru: LRUCache<string, CacheEntry>; refresh(): void } {
  const holder = env.shared.get('cache.responses', () => new Holder());
  const lru = holder.configure(bounds);
  const evictions = env.metrics.counter({ name: 'gateway_cache_evictions_total', help: 'Cache entries removed before being read again, by reason (evict: pushed out by the bounds, expire: TTL ran out)', labelNames: ['reason'] });
  const bytes = env.metrics.gauge({ name: 'gateway_cache_bytes', help: 'Bytes of response bodies held by the response cache, overhead included' });
  const entries = env.metrics.gauge({ name: 'gateway_cache_entries', help: 'Entries held by the response cache' });
  const refresh = (): void => {
    bytes.set(lru.calculatedSize);
    entries.set(lru.size);
  };
  holder.listener = {
    onDispose(reason) {
      if (reason === 'evict' || reason === 'expire') evictions.inc({ reason });
    },
  };
  refresh();
  return { lru, refresh };
}
