/**
 * The upstream pools' undici `Pool`, loaded without undici's package entry: the same class
 * the entry exports, with the request API, and usable in a process that never loads the entry.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Pool } from 'undici';
import { poolClass } from '../../core/pool.js';
import { repoRoot } from '../helpers/process.js';

t.test('poolClass() is the class undici exports, with its request API', async (t) => {
  t.equal(poolClass(), Pool, "if this fails, undici moved its files: update core/pool.ts's paths");
  for (const method of ['request', 'stream', 'pipeline', 'upgrade', 'connect', 'dispatch', 'close', 'destroy']) {
    t.equal(typeof (Pool.prototype as unknown as Record<string, unknown>)[method], 'function', method);
  }
});

t.test('a pool requests without undici/index.js ever loaded', async (t) => {
  const pool = path.join(repoRoot, 'dist/core/pool.js');
  const script = `
    import http from 'node:http';
    import { createRequire } from 'node:module';
    import { poolClass } from ${JSON.stringify(pool)};
    const server = http.createServer((req, res) => res.end('pong ' + req.method + ' ' + req.url));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const Pool = poolClass();
    const p = new Pool('http://127.0.0.1:' + server.address().port, { connections: 1 });
    const res = await p.request({ method: 'POST', path: '/x', body: 'hi' });
    const body = await res.body.text();
    await p.close();
    server.close();
    const entry = Object.keys(createRequire(${JSON.stringify(pool)}).cache).some((f) => f.endsWith('/undici/index.js'));
    console.log(JSON.stringify({ status: res.statusCode, body, entry }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout.trim()), { status: 200, body: 'pong POST /x', entry: false });
});
