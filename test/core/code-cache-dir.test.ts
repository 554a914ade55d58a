/**
 * The operator's code cache directory: made private when missing, refused when anyone but
 * the gateway's user could write to it; caches read from it only when that user alone could
 * have written them; a write replaces the file's cache whole and drops its other builds'.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { cacheFileIn, openCacheDir, readTrusted, writeCacheFile } from '../../core/deps/code-cache-dir.js';
import { tempDir } from '../helpers/temp-dir.js';

const OTHER_UID = 65534; // nobody
const isRoot = process.getuid?.() === 0;

t.test('none named: no directory, no problem', async (t) => {
  t.same(openCacheDir(undefined), { dir: undefined });
  t.same(openCacheDir(''), { dir: undefined });
});

t.test('a missing directory is made, readable and writable by its user alone', async (t) => {
  const dir = path.join(tempDir('gw-cc-dir-'), 'a', 'caches');
  t.same(openCacheDir(dir), { dir });
  t.equal(statSync(dir).mode & 0o777, 0o700);
});

t.test('a directory others can write to is refused, saying why', async (t) => {
  const dir = tempDir('gw-cc-dir-');
  chmodSync(dir, 0o777);
  const state = openCacheDir(dir);
  t.equal(state.dir, undefined);
  t.match(state, { problem: /writable by others \(mode 777\)/ });
  chmodSync(dir, 0o770);
  t.match(openCacheDir(dir), { dir: undefined, problem: /mode 770/ }, 'group-writable too');
  chmodSync(dir, 0o755);
  t.same(openCacheDir(dir), { dir }, 'readable by others is fine: a cache holds no secret');
});

t.test('a file, or a directory of another user, is refused', async (t) => {
  const dir = tempDir('gw-cc-dir-');
  const file = path.join(dir, 'f');
  writeFileSync(file, '');
  t.match(openCacheDir(file), { dir: undefined, problem: /not a directory/ });
  if (!isRoot) return t.comment('not root: cannot give a directory to another user');
  const theirs = path.join(dir, 'theirs');
  openCacheDir(theirs);
  chownSync(theirs, OTHER_UID, OTHER_UID);
  t.match(openCacheDir(theirs), { dir: undefined, problem: new RegExp(`owned by uid ${OTHER_UID}`) });
});

t.test('a cache is read only when its user alone could have written it', async (t) => {
  const dir = tempDir('gw-cc-dir-');
  const cache = cacheFileIn(dir, '/x/app.cjs', Buffer.alloc(32, 0xab));
  t.equal(path.basename(cache), 'app.cjs.abababababababab.v8cache', 'named by the file and its source hash');
  t.equal(readTrusted(cache), undefined, 'none there');
  writeCacheFile(cache, Buffer.from('bytes'));
  t.equal(statSync(cache).mode & 0o777, 0o600);
  t.equal(readTrusted(cache)?.toString(), 'bytes');
  chmodSync(cache, 0o666);
  t.equal(readTrusted(cache), undefined, 'writable by others: passed over');
  chmodSync(cache, 0o644);
  t.equal(readTrusted(cache)?.toString(), 'bytes');
  const elsewhere = path.join(tempDir('gw-cc-dir-'), 'planted');
  writeFileSync(elsewhere, 'planted');
  const linked = cacheFileIn(dir, '/x/link.cjs', Buffer.alloc(32, 1));
  symlinkSync(elsewhere, linked);
  t.equal(readTrusted(linked), undefined, 'a symlink: passed over');
  if (isRoot) {
    chownSync(cache, OTHER_UID, OTHER_UID);
    t.equal(readTrusted(cache), undefined, "another user's: passed over");
    writeCacheFile(cache, Buffer.from('mine'));
    t.equal(readTrusted(cache)?.toString(), 'mine', 'and replaced by the next write');
  }
});

t.test("a write drops the same file's caches of other builds, and nothing else", async (t) => {
  const dir = tempDir('gw-cc-dir-');
  const old = cacheFileIn(dir, '/x/app.cjs', Buffer.alloc(32, 1));
  const other = cacheFileIn(dir, '/x/undici.cjs', Buffer.alloc(32, 1));
  const longerName = cacheFileIn(dir, '/x/my.app.cjs', Buffer.alloc(32, 1));
  for (const f of [old, other, longerName]) writeCacheFile(f, Buffer.from('old'));
  writeFileSync(path.join(dir, 'notes.txt'), 'kept');
  const current = cacheFileIn(dir, '/x/app.cjs', Buffer.alloc(32, 2));
  writeCacheFile(current, Buffer.from('new'));
  t.notOk(existsSync(old), "the file's previous build's cache is gone");
  t.same(readdirSync(dir).sort(), [path.basename(current), path.basename(longerName), 'notes.txt', path.basename(other)].sort(), 'no temp file left');
});

t.test('a write that fails leaves no temp file behind', async (t) => {
  const dir = tempDir('gw-cc-dir-');
  const cache = cacheFileIn(dir, '/x/app.cjs', Buffer.alloc(32, 3));
  mkdirSync(path.join(cache, 'in-the-way'), { recursive: true }); // rename cannot replace a directory
  t.throws(() => writeCacheFile(cache, Buffer.from('new')));
  t.same(readdirSync(dir), [path.basename(cache)]);
});
