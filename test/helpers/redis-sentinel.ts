/**
 * A Redis Sentinel deployment on loopback, really started: a primary, a replica following
 * it, and one sentinel (`redis-server --sentinel`, quorum 1) watching them with a 1 s
 * down-after, so a killed primary's replica is promoted in a few seconds. With `tls`, every
 * port (the sentinel's too) speaks only TLS, and replication goes over it. Every process is
 * killed by PID at teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';
import { startRedis, type RedisTls, type TestRedis } from './redis.js';
import { tempDir } from './temp-dir.js';
import { reapChild } from './reap.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TestSentinelGroup {
  /** The master group's name. */
  readonly master: string;
  /** `127.0.0.1:port` of the sentinel. */
  readonly sentinel: string;
  readonly primary: TestRedis;
  readonly replica: TestRedis;
  /** The port the sentinel names as the primary's now. */
  primaryPort(): Promise<number>;
  /** One command to the sentinel, e.g. `SENTINEL FAILOVER <master>`; the raw reply. */
  ask(...args: string[]): Promise<string>;
}

const MASTER = 'gwmaster';

export interface SentinelGroupOptions {
  /** The sentinel's `requirepass`. */
  sentinelPassword?: string;
  /** The one ACL user the sentinel lets in (its default user is off). */
  sentinelUser?: { username: string; password: string };
  /** Every port, the sentinel's too, speaks only TLS, and replication goes over it. */
  tls?: RedisTls;
  /**
   * The Redis and the sentinel go by `localhost`, as in Kubernetes: the sentinel monitors and
   * announces host names (`resolve-hostnames`, `announce-hostnames`), and the replica
   * announces itself by name.
   */
  hostnames?: boolean;
}

export async function startSentinelGroup(t: Teardown, options: SentinelGroupOptions = {}): Promise<TestSentinelGroup> {
  const certs = options.tls;
  const host = options.hostnames ? 'localhost' : '127.0.0.1';
  const overTls = certs ? ['--tls-replication', 'yes'] : [];
  const byName = options.hostnames ? ['--replica-announce-ip', host] : [];
  const primary = await startRedis(t, [...overTls, ...byName], { tls: certs });
  const replica = await startRedis(t, [...overTls, ...byName, '--replicaof', host, String(primary.port)], { tls: certs });
  await until(async () => (await replica.command('INFO', 'replication')).includes('master_link_status:up'), 'the replica to sync');

  const port = await freePort();
  const dir = tempDir('sentinel-');
  const conf = path.join(dir, 'sentinel.conf'); // the sentinel rewrites it as it learns
  const listen = certs
    ? ['port 0', `tls-port ${port}`, `tls-cert-file ${certs.cert}`, `tls-key-file ${certs.key}`, `tls-ca-cert-file ${certs.ca}`, 'tls-auth-clients no', 'tls-replication yes']
    : [`port ${port}`];
  const names = options.hostnames ? ['sentinel resolve-hostnames yes', 'sentinel announce-hostnames yes'] : [];
  const lines = [...listen, 'bind 127.0.0.1', `dir ${dir}`, ...names, `sentinel monitor ${MASTER} ${host} ${primary.port} 1`, `sentinel down-after-milliseconds ${MASTER} 1000`, `sentinel failover-timeout ${MASTER} 5000`];
  if (options.sentinelPassword) lines.push(`requirepass ${options.sentinelPassword}`);
  if (options.sentinelUser) lines.push('user default off', `user ${options.sentinelUser.username} on >${options.sentinelUser.password} ~* &* +@all`);
  writeFileSync(conf, lines.join('\n') + '\n');
  const child: ChildProcess = reapChild(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
  t.teardown(async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid, 'SIGKILL');
    await exited;
  });
  const user = options.sentinelUser;
  const auth = user ? ['AUTH', user.username, user.password] : options.sentinelPassword ? ['AUTH', options.sentinelPassword] : undefined;
  const secure = certs ? { ca: readFileSync(certs.ca) } : undefined;
  const ask = (...args: string[]): Promise<string> => sentinelCommand(port, args, auth, secure);
  // Ready once it has found the replica through the primary (its first INFO) and talked to it
  // (flags just "slave", not "slave,disconnected"; its link to the primary up): only then would
  // it promote it, and a SENTINEL FAILOVER before that is refused NOGOODSLAVE.
  const replicaGood = (reply: string): boolean => reply.includes(`\r\n${replica.port}\r\n`) && reply.includes('\r\nflags\r\n$5\r\nslave\r\n') && reply.includes('\r\nmaster-link-status\r\n$2\r\nok\r\n');
  await until(async () => replicaGood(await ask('SENTINEL', 'REPLICAS', MASTER).catch(() => '')), 'the sentinel to know the replica as good');
  return {
    master: MASTER,
    sentinel: `127.0.0.1:${port}`,
    primary,
    replica,
    ask,
    async primaryPort() {
      const reply = await ask('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER);
      return Number(/\$\d+\r\n(\d+)\r\n$/.exec(reply)?.[1]);
    },
  };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One command (after AUTH, when given) to the sentinel on a fresh connection (TLS with `secure`); the raw reply text. */
function sentinelCommand(port: number, args: readonly string[], auth?: readonly string[], secure?: tls.ConnectionOptions): Promise<string> {
  const encode = (a: readonly string[]): string => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = secure ? tls.connect({ ...secure, port, host: '127.0.0.1' }) : net.connect(port, '127.0.0.1');
    let data = '';
    let skip = auth ? 1 : 0; // AUTH's +OK comes first
    socket.setTimeout(2000, () => socket.destroy(new Error('sentinel command timed out')));
    socket.on(secure ? 'secureConnect' : 'connect', () => socket.write((auth ? encode(auth) : '') + encode(args)));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (skip && data.includes('\r\n')) {
        data = data.slice(data.indexOf('\r\n') + 2);
        skip = 0;
      }
      // Replies here are short: a whole one has arrived when a read ends in CRLF and settles.
      if (!skip && data.endsWith('\r\n')) {
        setTimeout(() => {
          socket.end();
          resolve(data);
        }, 20);
      }
    });
    socket.on('error', reject);
  });
}
