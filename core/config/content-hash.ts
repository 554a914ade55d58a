/**
 * The config file's identity: sha256 of its bytes, hex. The loader stamps it on a loaded
 * config and the file watcher compares it with what the gateway last read, so both must
 * take it the same way: this function.
 */
import { createHash } from 'node:crypto';

export function configContentHash(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
