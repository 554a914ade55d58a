/**
 * A gateway in a process of its own (`test/fixtures/gateway-process.ts`), for tests of
 * several replicas or of what only a process's start can set (its environment, such as
 * `NODE_EXTRA_CA_CERTS`). Stopped with SIGTERM at teardown.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './process.js';
import { reapChild } from './reap.js';

const script = path.join(repoRoot, 'test', 'fixtures', 'gateway-process.ts');

export interface GatewayProcess {
  url: string;
  /** SIGTERM, resolved once the process has exited. */
  stop(): Promise<void>;
}

/** `env` replaces this process's environment for the child when given. */
export async function spawnGateway(t: { teardown(fn: () => unknown): void }, configPath: string, env?: NodeJS.ProcessEnv): Promise<GatewayProcess> {
  const child = reapChild(spawn(process.execPath, ['--import', 'tsx', script, configPath], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'inherit'] }));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = once(child, 'exit');
    process.kill(child.pid, 'SIGTERM');
    await exited;
  };
  t.teardown(stop);
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => [null])])) as [string | null];
  if (!line) throw new Error('gateway process exited before listening');
  return { url: (JSON.parse(line) as { url: string }).url, stop };
}
