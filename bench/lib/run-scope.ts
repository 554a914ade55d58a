/**
 * What a bench run leaves behind: its temp folder (configs, audit files) and the processes it
 * starts. Both go together — at the run's end, on Ctrl-C, or when the run fails — so that a
 * failed or interrupted run leaves no server serving and nothing in /tmp.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Started } from './proc.js';

export interface RunScope {
  /** The run's temp folder, `<tmp>/<prefix>XXXXXX`. */
  readonly dir: string;
  /** Every process the run started, newest last; push each as it starts. */
  readonly started: Started[];
  /** Stops the processes, newest first, then removes the folder. Safe to call again. */
  cleanUp(): Promise<void>;
}

/** A new run scope; Ctrl-C cleans it up and exits with 130. */
export function openRunScope(prefix: string): RunScope {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const started: Started[] = [];
  const cleanUp = async (): Promise<void> => {
    while (started.length > 0) await started.pop()!.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanUp().then(() => process.exit(130)));
  return { dir, started, cleanUp };
}
