/**
 * `ioredis`, loaded through {@link loadBundled} when a Redis store is first made (a gateway on
 * the memory store never loads it). From node_modules it is ~70 files with `debug` and
 * `@ioredis/commands`, and its load took 95–138 ms of a start here; from one bundle with its
 * code cache 72–80, and 26–35 since the build fills its command methods' prototype in
 * dictionary mode (`prototype-fill.ts`). Every worker and replica on the shared store pays it.
 */
import { loadBundled } from './bundled.js';

/** The ioredis module: its `Redis`, `Cluster` and `Command`. */
export function loadIoredis(): typeof import('ioredis') {
  return loadBundled<typeof import('ioredis')>('ioredis');
}
