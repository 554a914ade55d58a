/**
 * The build step that writes the V8 code caches `core/deps/code-cache.ts` loads (the last
 * step of `npm run build`): start the built gateway on its default config, wait for its
 * "gateway listening" log line, stop it with SIGTERM, and let it write, as it exits, a
 * cache of every build file it loaded through `requireCached`. The log line comes last in
 * a start, after the config watcher, so the caches hold all that start-up ran.
 *
 * The gateway takes a port the kernel picks (port 0), so there is no port to find first.
 * A gateway that does not start in time is killed and the build goes on without caches:
 * they save start-up time, nothing depends on them.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WRITE_CODE_CACHE_ENV } from '../deps/code-cache.js';
import { CLI_COMMAND } from './bundle-app.js';

const START_TIMEOUT_MS = 20_000;
const LISTENING = '"msg":"gateway listening"';

/** Start the gateway in `root`, stop it once it has started; resolves with its exit code and the end of its stderr. */
export async function recordCodeCaches(root: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [path.join(root, 'dist', CLI_COMMAND)], {
    cwd: root,
    // The embedded default config, as `npm start` runs it.
    env: { ...process.env, AI_GATEWAY_CONFIG: '', AI_GATEWAY_PORT: '0', AI_GATEWAY_LOG_LEVEL: 'info', [WRITE_CODE_CACHE_ENV]: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let stopping = false;
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
    if (stopping || !stderr.includes(LISTENING)) return;
    stopping = true;
    clearTimeout(timer);
    child.kill('SIGTERM');
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const { code, stderr } = await recordCodeCaches(root);
  if (code === 0) console.log('code caches: written beside dist/app, dist/vendor and the precompiled validators');
  else console.warn(`code caches: not written (the gateway exited with ${code}); start-up runs without them\n${stderr}`);
}
