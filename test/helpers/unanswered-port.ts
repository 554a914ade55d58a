/**
 * A loopback port that leaves connection attempts unanswered, as a powered-off host's address
 * does: a connect neither succeeds nor is refused, but waits out its own timeout. The port
 * is held by a listener whose accept queue is full (`listen(0)`, filled by one connection of
 * its own, never accepted), so the kernel drops further SYNs. Node cannot listen without
 * accepting, so the listener is a short python3 script (Debian's, on every machine here).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { reapChild } from './reap.js';

const HOLDER = `
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(0)
queued = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
print('holding', flush=True)
sys.stdin.read()
`;

export interface UnansweredPort {
  /** Frees the port (the holder exits; its queued connection is reset). */
  release(): Promise<void>;
}

/** Holds `port`, which must be free to bind, until released. */
export async function leaveUnanswered(port: number): Promise<UnansweredPort> {
  const holder = reapChild(spawn('python3', ['-c', HOLDER, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const [first] = (await Promise.race([once(holder.stdout, 'data'), once(holder, 'exit').then(() => [Buffer.from('')])])) as [Buffer];
  if (!first.toString().startsWith('holding')) throw new Error(`could not hold port ${port} unanswered`);
  let exited = false;
  holder.once('exit', () => (exited = true));
  return {
    release: async () => {
      if (exited) return;
      const gone = once(holder, 'exit');
      holder.stdin.end();
      await gone;
    },
  };
}
