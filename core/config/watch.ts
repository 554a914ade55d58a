/**
 * Watches the config file for hot reload. Editors save by writing a temp file and renaming
 * it over the config, Kubernetes swaps a `..data` symlink, and plain writers truncate then
 * write: a watch on the file itself would lose track after the first two and fire on a
 * half-written file in the third. So the directories are watched (the config's own and the
 * one its symlinks resolve to), every event restarts a short settle timer, and when it
 * fires the file's bytes are hashed: only content that changed since the last attempt is
 * handed on.
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../logger.js';

/** How long the file must be quiet before it is read; far below chokidar's 2 s `awaitWriteFinish`. */
export const DEFAULT_SETTLE_MS = 40;

export interface ConfigWatchOptions {
  /** The config file as the gateway was told (may be a symlink). */
  file: string;
  /** sha256 of the content already applied, so the first event does not reload it again. */
  initialHash: string;
  /** Called with settled content whose hash differs from the last one handed on. */
  onChange(hash: string): void;
  log: Logger;
  settleMs?: number;
}

/** A running config watch; `close()` stops it. */
export interface ConfigWatcher {
  close(): Promise<void>;
}

export async function watchConfig(opts: ConfigWatchOptions): Promise<ConfigWatcher> {
  const file = path.resolve(opts.file);
  const settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
  let lastHash = opts.initialHash;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const dirs = new Set(watchedDirs(file));
  let targetBase = targetName(file);

  // Symlinks are not followed: a swapped `..data` link is then an event in the directory
  // itself, and the resolved directory is watched explicitly.
  // Files beside the config are not watched at all: chokidar stats a watched file on each
  // of its events, and an audit log written every few milliseconds would cost every request.
  const ignored = (entry: string): boolean => !dirs.has(entry) && !relevant(entry);
  const watcher: FSWatcher = watch([...dirs], { ignoreInitial: true, depth: 0, followSymlinks: false, atomic: false, persistent: true, ignored });
  // 'raw' carries every directory event; chokidar's own 'change' can miss a second rename
  // that lands while it is still re-watching the file replaced by the first.
  watcher.on('raw', (_event, name) => {
    if (relevant(name)) schedule();
  });
  watcher.on('all', (_event, changed) => {
    if (relevant(changed)) schedule();
  });
  watcher.on('error', (err) => opts.log.warn('config watcher error', { file, err }));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));

  /**
   * Only the config's own name (in either directory) and Kubernetes' `..`-prefixed swap
   * entries count: other files beside the config — an audit log written every few ms —
   * must not keep restarting the settle timer.
   */
  function relevant(changed: unknown): boolean {
    if (typeof changed !== 'string' || changed === '') return true; // platform gave no name: check anyway
    const name = path.basename(changed);
    return name === path.basename(file) || name === targetBase || name.startsWith('..');
  }

  function schedule(): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(check, settleMs);
  }

  function check(): void {
    if (closed) return;
    retarget();
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      // Mid-swap or deleted: the rename or re-creation that follows fires another event.
      opts.log.debug('config file not readable yet', { file, err });
      return;
    }
    // A truncate-then-write caught in between reads as empty, which would parse as an empty
    // config; the write that follows fires another event.
    if (bytes.length === 0) return;
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (hash === lastHash) return;
    lastHash = hash;
    opts.onChange(hash);
  }

  /** A symlink swap can move the real file to another directory: follow it. */
  function retarget(): void {
    const now = new Set(watchedDirs(file));
    const gone = [...dirs].filter((d) => !now.has(d));
    const added = [...now].filter((d) => !dirs.has(d));
    if (gone.length > 0) watcher.unwatch(gone);
    if (added.length > 0) watcher.add(added);
    dirs.clear();
    for (const d of now) dirs.add(d);
    targetBase = targetName(file);
  }

  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await watcher.close();
    },
  };
}

/** The name of the file the config resolves to (its own name when it is no symlink). */
function targetName(file: string): string {
  try {
    return path.basename(realpathSync(file));
  } catch {
    return path.basename(file);
  }
}

function watchedDirs(file: string): string[] {
  const own = path.dirname(file);
  try {
    const real = path.dirname(realpathSync(file));
    return real === own ? [own] : [own, real];
  } catch {
    return [own];
  }
}
