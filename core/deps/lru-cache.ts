/**
 * `lru-cache`'s `LRUCache`, loaded through {@link loadBundled}: the memory store's tables
 * make one at start-up, and from node_modules its load took ~6 ms here (uncached compiles,
 * `diagnostics_channel` wiring), against ~2 bundled with its code cache.
 */
import type * as Lru from 'lru-cache';
import { loadBundled } from './bundled.js';

export const { LRUCache } = loadBundled<typeof Lru>('lru-cache');
export type LRUCache<K extends {}, V extends {}, FC = unknown> = Lru.LRUCache<K, V, FC>;
