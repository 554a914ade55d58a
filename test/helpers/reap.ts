/**
 * Servers a test file starts (redis-server, a sentinel, PostgreSQL, a gateway process) are
 * stopped by its tests' teardowns, and its temp folders removed at exit. When tap's timeout
 * ends a test file, neither happens: tap sends the process SIGALRM and kills it 500 ms later,
 * so every server it had started would run on as an orphan, holding a port and a share of
 * the CPU for the rest of the suite, and its folders would stay in /tmp. So each server is
 * also stopped, and then each folder removed, when the test process exits or receives tap's
 * timeout signal.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/** Processes to stop, with the signal that stops each at once. */
const running = new Map<number, NodeJS.Signals>();
/** Folders to remove once they are stopped. */
const folders = new Set<string>();

function stopAll(): void {
  for (const [pid, signal] of running) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
  running.clear();
  // A server just signalled may still be closing files in its folder: a few retries cover it.
  for (const dir of folders) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    } catch {
      // left for the system's temp clean-up: the exit must not fail on it
    }
  }
  folders.clear();
}

process.once('exit', stopAll);
// A listener of our own makes Node not die of the signal by default; tap's SIGKILL follows anyway.
process.once('SIGALRM', stopAll);

/** Stop `pid` with `signal` if the test process ends first; call the returned function once it is stopped. */
export function stopWithTestProcess(pid: number, signal: NodeJS.Signals = 'SIGKILL'): () => void {
  running.set(pid, signal);
  return () => running.delete(pid);
}

/** {@link stopWithTestProcess} for a child: forgotten by itself once the child exits. */
export function reapChild<C extends ChildProcess>(child: C, signal: NodeJS.Signals = 'SIGKILL'): C {
  const pid = child.pid;
  if (pid === undefined) return child; // never started: the spawn's 'error' says why
  const forget = stopWithTestProcess(pid, signal);
  child.once('exit', forget);
  return child;
}

/** Remove `dir` when the test process ends, after the servers above are stopped. */
export function removeWithTestProcess(dir: string): void {
  folders.add(dir);
}
