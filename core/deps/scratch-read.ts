/**
 * Reading the build's files at start-up into one reused buffer instead of a new one per
 * file. A start reads ~3 MB of bundles and code caches, each only until V8 has its copy;
 * fresh memory costs a page fault per 4 KB on first touch, and faults are dear in some VMs
 * (~12 µs each on our CI machines: ~8 ms of a start for those 3 MB). The buffer is held
 * weakly, so a collection after start-up frees it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const MIN_SCRATCH = 256 * 1024;
let scratch: WeakRef<Buffer> | undefined;

/**
 * The bytes of `file`, valid only until the next call (copy what must outlast it).
 * Throws as `readFileSync` does; with `ifThere`, a missing file is `undefined`.
 */
export function readScratch(file: string, ifThere?: 'ifThere'): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if (ifThere && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    let buffer = scratch?.deref();
    let length = 0;
    for (;;) {
      // Room for one byte more than the file holds: reading 0 bytes is how its end shows.
      const need = Math.max(size, length) + 1;
      if (!buffer || buffer.length < need) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(need, MIN_SCRATCH, (buffer?.length ?? 0) * 2));
        buffer?.copy(bigger, 0, 0, length);
        scratch = new WeakRef((buffer = bigger));
      }
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) return buffer.subarray(0, length);
      length += read;
    }
  } finally {
    closeSync(fd);
  }
}
