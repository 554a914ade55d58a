/**
 * The `chokidar` values the gateway uses, loaded through {@link loadBundled}: the config
 * watcher starts after the listener, before the first request is served, so its load is
 * part of the time to a first answer.
 */
import type * as Chokidar from 'chokidar';
import { loadBundled } from './bundled.js';

const chokidar = loadBundled<typeof Chokidar>('chokidar');

export const { watch } = chokidar;
export type FSWatcher = Chokidar.FSWatcher;
