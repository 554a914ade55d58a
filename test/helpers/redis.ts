/**
 * A real, throwaway redis-server on a free loopback port: no persistence, killed by PID
 * at teardown. If redis-server is not installed the test fails (CI installs it). With
 * `tls`, the port speaks only TLS (`rediss://localhost:…`), with the given certificate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';
import { tempDir } from './temp-dir.js';
import { reapChild } from './reap.js';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** PID of the running server. */
  readonly pid: number;
  /** SIGKILL the server and wait until it is gone. */
  kill(): Promise<void>;
  /** Start a fresh server (empty, no scripts cached) on the same port. */
  restart(): Promise<void>;
  /** Send one command, get the raw RESP reply text. */
  command(...args: string[]): Promise<string>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** PEM files for a TLS port: the server's certificate (for `localhost` and 127.0.0.1) and key, and the CA clients trust. */
export interface RedisTls {
  cert: string;
  key: string;
  /** Trusted by clients, and by Redis for client certificates (may hold several). */
  ca: string;
  /** Redis's `tls-auth-clients` (its default yes; no unless set here): a client must show a certificate `ca` vouches for. This helper's own client shows the server's. */
  authClients?: boolean;
}

/** `args` are added to redis-server's command line, at every start. */
export async function startRedis(t: Teardown, args: readonly string[] = [], options: { tls?: RedisTls } = {}): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const { tls: certs } = options;
  const listen = certs
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', certs.authClients ? 'yes' : 'no']
    : ['--port', String(port)];
  const secure = certs ? { ca: readFileSync(certs.ca), cert: readFileSync(certs.cert), key: readFileSync(certs.key) } : undefined;

  const workDir = tempDir('redis-');
  const launch = async (): Promise<void> => {
    // Its own working folder (`args` may name another): a replica's full sync writes an RDB file
    // there even with saving off, which in the checkout's folder would land in the repository.
    const c = reapChild(spawn('redis-server', [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', workDir, ...args], { stdio: 'ignore' }));
    child = c;
    const failed = new Promise<never>((_, reject) => {
      c.once('error', (err) => reject(new Error(`cannot start redis-server (is it installed?): ${err.message}`)));
      c.once('exit', (code) => reject(new Error(`redis-server exited early with code ${code}`)));
    });
    failed.catch(() => undefined);
    await Promise.race([failed, waitForPong(port, secure)]);
  };

  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.pid === undefined) return;
    const exited = new Promise((r) => c.once('exit', r));
    process.kill(c.pid, 'SIGKILL');
    await exited;
  };

  await launch();
  t.teardown(kill);
  return {
    port,
    url: secure ? `rediss://localhost:${port}` : `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? -1;
    },
    kill,
    async restart() {
      await kill();
      await launch();
    },
    command: (...args) => command(port, args, secure),
  };
}

async function waitForPong(port: number, secure: tls.ConnectionOptions | undefined): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await command(port, ['PING'], secure)).startsWith('+PONG')) return;
    } catch {
      // not listening yet
    }
    await sleep(25);
  }
  throw new Error(`redis-server on port ${port} did not answer PING`);
}

/** One RESP command over a fresh connection (TLS with `secure`'s CA and client certificate); resolves with the reply's raw text. */
function command(port: number, args: readonly string[], secure?: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = secure ? tls.connect({ ...secure, port, host: '127.0.0.1', servername: 'localhost' }) : net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('redis command timed out')));
    socket.on(secure ? 'secureConnect' : 'connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.endsWith('\r\n')) {
        socket.end();
        resolve(data);
      }
    });
    socket.on('error', reject);
  });
}
