/**
 * undici's `Pool`, the one undici value the runtime needs. undici's package entry loads
 * everything it ships — fetch, WebSocket, EventSource, caches, mocks, proxy agents — about
 * 110 modules and ~40 ms of CPU at start-up; the upstream pools need `Pool` and the
 * request API that the entry copies onto `Dispatcher.prototype`. So this loads those files
 * as the entry does, and falls back to the entry if undici's layout ever differs (the
 * test beside this file fails then, so an upgrade that moves them is noticed).
 */
import { createRequire } from 'node:module';
import type { Pool as PoolClass } from 'undici';

const load = createRequire(import.meta.url);

function loadPool(): typeof PoolClass {
  try {
    const Dispatcher = load('undici/lib/dispatcher/dispatcher.js') as { prototype: Record<string, unknown> };
    const Pool = load('undici/lib/dispatcher/pool.js') as typeof PoolClass;
    // What undici's index.js does; the same functions, so loading the entry later changes nothing.
    if (typeof Dispatcher.prototype.request !== 'function') Object.assign(Dispatcher.prototype, load('undici/lib/api/index.js'));
    if (typeof Pool === 'function' && Pool.prototype instanceof (Dispatcher as unknown as Function) && typeof Pool.prototype.request === 'function') return Pool;
  } catch {
    // the layout moved: the entry below is always right
  }
  return (load('undici') as typeof import('undici')).Pool;
}

let pool: typeof PoolClass | undefined;

/** undici's Pool class, loaded on first use. */
export function poolClass(): typeof PoolClass {
  return (pool ??= loadPool());
}
