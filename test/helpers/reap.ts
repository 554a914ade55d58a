/**
 * Servers a test file starts (redis-server, a sentinel, PostgreSQL, a gateway process) are
 * stopped by its tests' teardowns. When tap's timeout ends a test file, those never run: tap
 * sends the process SIGALRM and kills it 500 ms later, and every server it had started would
 * run on as an orphan, holding a port and a share of the CPU for the rest of the suite. So
 * each is also stopped when the test process exits or receives tap's timeout signal.
 */
import type { ChildProcess } from 'node:child_process';

/** Processes to stop, with the signal that stops each at once. */
const running = new Map<number, NodeJS.Signals>();

function stopAll(): void {
  for (const [pid, signal] of running) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
  running.clear();
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
