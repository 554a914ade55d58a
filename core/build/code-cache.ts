/**
 * The build step that writes the V8 code caches `core/deps/code-cache.ts` loads (the last
 * step of `npm run build`): start the built gateway on its default config, wait for its
 * first 200 on GET /health and its "gateway listening" log line, stop it with SIGTERM, and
 * let it write, as it exits, a cache of every build file it loaded through `requireCached`,
 * holding what its start-up ran. (The log line comes last in its start, after the config
 * watcher: its SIGTERM handler is in place only then. /health answers before that.)
 *
 * Loopback only (the gateway binds where the default config says; it is asked on
 * 127.0.0.1). A gateway that does not start in time is stopped and the build goes on
 * without caches: they save start-up time, nothing depends on them.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WRITE_CODE_CACHE_ENV } from '../deps/code-cache.js';

const START_TIMEOUT_MS = 20_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** Start the gateway in `root`, stop it after its first 200; resolves with its exit code and what it printed to stderr. */
export async function recordCodeCaches(root: string): Promise<{ code: number | null; stderr: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, 'dist/bin/ai-gateway.js')], {
    cwd: root,
    // The embedded default config, as `npm start` runs it.
    env: { ...process.env, AI_GATEWAY_CONFIG: '', AI_GATEWAY_PORT: String(port), AI_GATEWAY_LOG_LEVEL: 'info', [WRITE_CODE_CACHE_ENV]: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let started = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
    started ||= stderr.includes('"msg":"gateway listening"');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + START_TIMEOUT_MS;
  const up = async (): Promise<boolean> => started && (await healthy(port));
  while (child.exitCode === null && Date.now() < deadline && !(await up())) await new Promise((r) => setTimeout(r, 20));
  child.kill(child.exitCode === null && Date.now() < deadline ? 'SIGTERM' : 'SIGKILL');
  return { code: await exited, stderr };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const { code, stderr } = await recordCodeCaches(root);
  if (code === 0) console.log('code caches: written beside dist/vendor and the precompiled validators');
  else console.warn(`code caches: not written (the gateway exited with ${code}); start-up runs without them\n${stderr}`);
}
