/**
 * Store writes whose answers nobody waits for, merged per key and sent together after a
 * short delay. On a shared store every script run is a round trip, and under load the
 * requests of one key (a user, a project, the whole gateway) complete within a few
 * milliseconds of each other: their writes become one run per key per delay instead of
 * one per request (a limiter's reconciles, a budget's settlements). `delayedBatchFor`
 * gives one only where writes are round trips.
 *
 * What the delay changes: other readers see a write up to `delayMs` later. A filter that
 * reports state (`/v1/usage`) calls `flush()` first, and its `close()` does too, so a
 * reload or a stop loses nothing pending.
 */
import type { Store } from './types.js';

export interface DelayedBatchOptions<E> {
  /** How long the first write of a batch waits for others to join it. */
  readonly delayMs: number;
  /** Folds `next` into `into`, an entry already pending under the same key. */
  readonly merge: (into: E, next: E) => void;
  /** Sends one key's merged entry; a returned promise's rejection goes to `onError`. */
  readonly send: (entry: E) => unknown;
  /** Hears a send's failure; nothing is retried, nothing is thrown to the caller of `add`. */
  readonly onError: (err: unknown) => void;
}

export class DelayedBatch<E> {
  private pending = new Map<string, E>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DelayedBatchOptions<E>) {}

  /** Queues `entry` under `key`; the batch owns it from here on (a later `add` may merge into it). */
  add(key: string, entry: E): void {
    const into = this.pending.get(key);
    if (into === undefined) this.pending.set(key, entry);
    else this.options.merge(into, entry);
    // Unref'd: pending writes never hold a stopping process open (close() flushes them).
    this.timer ??= setTimeout(() => void this.flush(), this.options.delayMs).unref();
  }

  /** Entries waiting to be sent. */
  get size(): number {
    return this.pending.size;
  }

  /** Sends everything pending now; resolves once the store has answered every send (or failed). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    const runs: Promise<unknown>[] = [];
    for (const entry of batch.values()) {
      try {
        const r = this.options.send(entry);
        if (r instanceof Promise) runs.push(r.catch(this.options.onError));
      } catch (err) {
        this.options.onError(err);
      }
    }
    return Promise.all(runs).then(() => undefined);
  }
}

/**
 * A batch for writes to `store`, or undefined for the memory store: it answers in this
 * process, where a write costs nothing to make at once and is seen at once.
 */
export function delayedBatchFor<E>(store: Store, options: DelayedBatchOptions<E>): DelayedBatch<E> | undefined {
  return store.type === 'memory' ? undefined : new DelayedBatch(options);
}
