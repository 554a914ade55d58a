/** The context slot that says a request was answered from the response cache (read by `audit`). */
import { createKey } from '../../core/index.js';

/**
 * Set to true by the `cache` filter when it answers a request from an entry.
 * @example
 * const hit = ctx.get(CACHE_HIT) === true;
 */
export const CACHE_HIT = createKey<boolean>('cache.hit');
