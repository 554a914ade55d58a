/**
 * Temporary folders for tests, removed when the test process exits — after every
 * teardown, and after the servers a test started are stopped (./reap.ts), so nothing is
 * writing into its folder by then. A test file ended by tap's timeout loses them too.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { removeWithTestProcess } from './reap.js';

/** A new folder under the system temp folder, named `<prefix>XXXXXX`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  removeWithTestProcess(dir);
  return dir;
}
