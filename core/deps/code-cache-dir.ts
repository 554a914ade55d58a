/**
 * A directory the operator names (`AI_GATEWAY_CODE_CACHE_DIR`) where the gateway keeps the
 * code caches it makes itself, for starts whose V8 flags refuse the build's: a heap size in
 * NODE_OPTIONS, common in containers, refuses every cache the build wrote.
 *
 * A code cache is code: whoever can write one can run code in the gateway. So the
 * directory, and every cache read from it, must belong to the gateway's own user and be
 * writable by nobody else; a shared tmp directory is refused, not used.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readScratch } from './scratch-read.js';

export const CODE_CACHE_DIR_ENV = 'AI_GATEWAY_CODE_CACHE_DIR';

/** The directory in use, or why the one named is not. */
export type CacheDirState = { dir: string } | { dir: undefined; problem?: string };

const GROUP_OR_OTHER_WRITABLE = 0o022;

/** Make and check the directory `named`; none named is no directory and no problem. */
export function openCacheDir(named: string | undefined): CacheDirState {
  if (!named) return { dir: undefined };
  const dir = path.resolve(named);
  const uid = process.getuid?.();
  if (uid === undefined) return { dir: undefined, problem: 'this platform has no file owners to check' };
  try {
    let stat = statSync(dir, { throwIfNoEntry: false });
    if (stat === undefined) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      stat = statSync(dir);
    }
    if (!stat.isDirectory()) return { dir: undefined, problem: `${dir} is not a directory` };
    const trust = untrusted(stat, uid);
    return trust ? { dir: undefined, problem: `${dir} ${trust}` } : { dir };
  } catch (err) {
    return { dir: undefined, problem: (err as Error).message };
  }
}

/** Why a file or directory is not to be trusted with code, or undefined if it is. */
function untrusted(stat: { uid: number; mode: number }, uid: number): string | undefined {
  if (stat.uid !== uid) return `is owned by uid ${stat.uid}, not by this process's ${uid}`;
  if (stat.mode & GROUP_OR_OTHER_WRITABLE) return `is writable by others (mode ${(stat.mode & 0o777).toString(8)})`;
  return undefined;
}

/** The cache of `file` in `dir`: named by the file and its source's hash, so builds do not collide. */
export function cacheFileIn(dir: string, file: string, sourceHash: Buffer): string {
  return path.join(dir, `${path.basename(file)}.${sourceHash.toString('hex', 0, 8)}.v8cache`);
}

/** A name {@link cacheFileIn} gives: the file's name, then 16 hex digits of its source's hash. */
const CACHE_NAME = /^(.+)\.[0-9a-f]{16}\.v8cache$/;

/** The bytes of a cache in the directory (until the next scratch read), if there is one this process's user alone could have written. */
export function readTrusted(cacheFile: string): Buffer | undefined {
  const stat = lstatSync(cacheFile, { throwIfNoEntry: false });
  if (!stat?.isFile() || untrusted(stat, process.getuid!()) !== undefined) return undefined;
  return readScratch(cacheFile, 'ifThere');
}

/**
 * Write `bytes` as `cacheFile` whole (a reader never sees half a cache, and processes
 * writing at once each rename their own), then remove the caches of the file's other builds.
 */
export function writeCacheFile(cacheFile: string, bytes: Buffer): void {
  const temp = `${cacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, bytes, { mode: 0o600 });
    chmodSync(temp, 0o600); // a umask cannot widen it, but an existing file kept its mode
    renameSync(temp, cacheFile);
  } catch (err) {
    rmSync(temp, { force: true }); // a full disk leaves no half-written file behind
    throw err;
  }
  const name = path.basename(cacheFile);
  const ofFile = CACHE_NAME.exec(name)?.[1];
  if (ofFile === undefined) return; // not a name cacheFileIn gives: nothing of its kind to replace
  for (const other of readdirSync(path.dirname(cacheFile))) {
    if (other !== name && CACHE_NAME.exec(other)?.[1] === ofFile) rmSync(path.join(path.dirname(cacheFile), other), { force: true });
  }
}
