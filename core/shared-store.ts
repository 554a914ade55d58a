/**
 * The runtime's shared state (see {@link SharedState}): objects that outlive a pipeline
 * generation. Each generation gets a view that records what it asked for, so an object
 * asked for with `closeWhenUnused` (a Redis store, whose connection a reload that changed
 * its settings no longer needs) is closed and forgotten once every generation that asked
 * for it has retired or failed to build. Everything else lives until the gateway closes.
 */
import type { SharedState, SharedOptions } from './types.js';

export class SharedStore {
  private readonly items = new Map<string, unknown>();
  /** Each live generation's `closeWhenUnused` keys. */
  private readonly held = new Map<number, Set<string>>();
  /** The gateway has closed: what a build racing its close makes is closed when that build ends. */
  private closed = false;

  /** The view generation `generation`'s plugins get. */
  forGeneration(generation: number): SharedState {
    const held = new Set<string>();
    this.held.set(generation, held);
    return {
      get: <T>(key: string, create: () => T, options?: SharedOptions): T => {
        if (options?.closeWhenUnused) held.add(key);
        return this.get(key, create);
      },
    };
  }

  /** Every object held now (for tests that look inside one, such as the memory store's cells). */
  values(): IterableIterator<unknown> {
    return this.items.values();
  }

  private get<T>(key: string, create: () => T): T {
    if (!this.items.has(key)) this.items.set(key, create());
    return this.items.get(key) as T;
  }

  /**
   * `generation` is gone (retired and drained, or never built): close what it held that no
   * live generation holds. Close errors go to `failed`: the generation is gone either way.
   */
  async release(generation: number, failed: (key: string, err: unknown) => void): Promise<void> {
    const held = this.held.get(generation);
    this.held.delete(generation);
    if (this.closed) return this.closeAll();
    if (!held) return;
    for (const key of held) {
      if (this.heldByAny(key)) continue;
      const item = this.items.get(key);
      this.items.delete(key);
      await closeItem(item).catch((err: unknown) => failed(key, err));
    }
  }

  /** Close every object (the gateway is closing; a close that fails changes nothing then). */
  async closeAll(): Promise<void> {
    this.closed = true;
    const items = [...this.items.values()];
    this.items.clear();
    for (const item of items) await closeItem(item).catch(() => {});
  }

  private heldByAny(key: string): boolean {
    for (const keys of this.held.values()) if (keys.has(key)) return true;
    return false;
  }
}

async function closeItem(item: unknown): Promise<void> {
  const closer = (item as { close?: () => unknown } | null)?.close;
  if (typeof closer === 'function') await closer.call(item);
}
