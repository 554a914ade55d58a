/**
 * The bare proxy under node:cluster: a primary that distributes connections (round-robin)
 * to N workers, each running {@link createBareProxy}. The floor for the gateway's
 * `server.workers` arms, with the same number of processes.
 *
 *   node --import=tsx bench/lib/bare-cluster.ts UPSTREAM PORT WORKERS
 */
import cluster from 'node:cluster';
import { createBareProxy } from './bare-proxy.js';

const [upstream, port, workers] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 2)];

if (cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('listening', () => {
    if (++ready === workers) process.stdout.write(`listening ${port}\n`);
  });
  const stop = (): void => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  createBareProxy(upstream).listen(port, '127.0.0.1');
}
