/**
 * `server.workers: 2` after an invalid edit: every worker refuses it and keeps the config it
 * has, so a worker that crashes then cannot start again until the file is fixed. The
 * primary keeps the cluster up on the survivor and retries the slot, instead of taking
 * the start-up rule ("a worker that cannot start stops the cluster") for this case.
 */
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { writeConfig } from '../helpers/gateway.js';
import { waitFor } from '../helpers/live.js';
import { freePort } from '../helpers/ports.js';
import { startRedis } from '../helpers/redis.js';
import { send, startCluster } from '../helpers/cluster.js';

function config(port: number, redisUrl: string, rateLimit = ''): string {
  return `server:
  host: 127.0.0.1
  port: ${port}
  workers: 2
  drain_timeout_ms: 2000
providers:
  echo:
    models: [echo-1]
filters:
  - name: auth
    config: { source: static }
  - name: rate-limit${rateLimit}
workspaces:
  ws-a: { user: alice }
rate_limits:
  default: { requests_per_minute: 100000 }
store: { type: redis, redis: { url: "${redisUrl}" } }
`;
}

const count = (text: string, what: string): number => text.split(what).length - 1;

t.test('an invalid edit, then a worker crash: the cluster keeps serving and the slot comes back once the file is fixed', async (t) => {
  const redis = await startRedis(t);
  const port = await freePort();
  const good = config(port, redis.url);
  const { file } = writeConfig(good);
  const cli = await startCluster(t, file);
  t.equal(cli.child.exitCode, null, 'cluster running');
  const url = `http://127.0.0.1:${port}`;

  writeFileSync(file, config(port, redis.url, '\n    config: { no_such_key: 1 }'));
  await waitFor(() => count(cli.stderr(), 'config reload failed; still serving the previous config') >= 2, 10_000, 20);
  const [victim] = cli.workerPids();
  process.kill(victim, 'SIGKILL');
  // The replacement reads the invalid file and exits 78, more than once under the backoff
  // (each a whole worker start: seconds on a loaded host).
  const refused = await waitFor(() => count(cli.stderr(), 'a replacement worker could not start') >= 2 || cli.child.exitCode !== null, 30_000, 20).catch(() => false);
  t.ok(refused, `the replacement refused the file twice (stderr tail: ${cli.stderr().split('\n').slice(-4).join(' | ')})`);
  t.equal(cli.child.exitCode, null, `the primary is still running (stderr tail: ${cli.stderr().split('\n').slice(-4).join(' | ')})`);
  t.notMatch(cli.stderr(), /stopping the cluster/);
  for (let i = 0; i < 4; i++) t.equal((await send(url, { path: '/health' })).status, 200, `request ${i}: the survivor serves the previous config`);

  writeFileSync(file, good);
  await waitFor(() => cli.workerPids().length === 2 && count(cli.stderr(), '"gateway listening"') === 3, 30_000, 20);
  t.pass('with the file valid again, the slot has a worker that serves');
  t.equal(cli.child.exitCode, null);
});
