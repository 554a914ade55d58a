/** A throwaway redis-server for a bench run: a free loopback port, no persistence. */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../test/helpers/ports.js';
import { spawnPinned, type Started } from './proc.js';

export interface BenchRedis extends Started {
  readonly url: string;
}

/**
 * Starts redis-server on `core` (or unpinned) and resolves once it accepts connections.
 * The caller stops it: push it onto the run's started list before awaiting `ready`.
 */
export async function startBenchRedis(core: number | undefined): Promise<{ redis: BenchRedis; ready: Promise<void> }> {
  const port = await freePort();
  const s = spawnPinned(core, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {}, 'redis-server');
  return { redis: { ...s, url: `redis://127.0.0.1:${port}` }, ready: accepting(port, s) };
}

async function accepting(port: number, s: Started): Promise<void> {
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(20)) {
    if (s.child.exitCode !== null) throw new Error(`redis-server exited (${s.child.exitCode}): ${s.stderr()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
  }
  throw new Error(`redis-server did not accept connections on port ${port} within 5 s`);
}
