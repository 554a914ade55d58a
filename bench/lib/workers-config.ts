/** The gateway config bench/workers.ts runs: bench/gateway.yaml with `server.workers` set. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * bench/gateway.yaml serving with `workers` processes on loopback. The Redis store it needs
 * past one worker is the config's own switch, {@link workersEnv}, not an edit of its text.
 */
export function workersConfig(workers: number): string {
  const base = readFileSync(path.join(benchDir, 'gateway.yaml'), 'utf8');
  const config = base.replace(/^server:\n/m, `server:\n  host: 127.0.0.1\n  workers: ${workers}\n`);
  if (config === base) throw new Error('bench/gateway.yaml: no block `server:` section to add `workers` to');
  return config;
}

/** The variables that put {@link workersConfig}'s store on the redis-server at `redisUrl`. */
export function workersEnv(redisUrl: string): Record<string, string> {
  return { BENCH_STORE: 'redis', BENCH_REDIS_URL: redisUrl };
}
