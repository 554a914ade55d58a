/**
 * A loopback port that accepts no connection: a child process listens with a tiny backlog
 * and is then stopped (SIGSTOP); once a few connections fill its accept queue the kernel
 * leaves further SYNs unanswered, and a connect hangs until the client's own timeout.
 * Needs no network and no root, unlike a "non-routable address" (which a sandbox may
 * answer or refuse at once).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';

const LISTENER = "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { console.log(this.address().port); })";

export interface Blackhole {
  url: string;
  close(): void;
}

export async function startBlackhole(): Promise<Blackhole> {
  const child = spawn(process.execPath, ['-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
  });
  child.kill('SIGSTOP');
  // Fill the accept queue; the stopped process never takes these off it.
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('error', () => {});
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 50));
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    },
  };
}
