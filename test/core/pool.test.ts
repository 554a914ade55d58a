/**
 * The upstream pools' undici `Pool`, loaded without undici's package entry: from the build's
 * bundle (a copy with the same members), else the class the entry exports; with the request
 * API, and usable in a process that never loads the entry.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Pool } from 'undici';
import { bundleFile } from '../../core/deps/bundled.js';
import { requireCached } from '../../core/deps/code-cache.js';
import { loadPool, poolClass } from '../../core/pool.js';
import { warmParser } from '../../core/parser-warm-up.js';
import { wasm, type WasmModule } from '../../core/wasm.js';
import { watToBinary } from '../helpers/wat.js';
import { repoRoot } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const require = createRequire(import.meta.url);
const METHODS = ['request', 'stream', 'pipeline', 'upgrade', 'connect', 'dispatch', 'close', 'destroy'];

t.test("without the build's bundle, poolClass's loader gives the class undici exports, with its request API", async (t) => {
  t.equal(loadPool(null), Pool, "if this fails, undici moved its files: update UNDICI_PARTS's paths");
  for (const method of METHODS) t.equal(typeof (Pool.prototype as unknown as Record<string, unknown>)[method], 'function', method);
});

t.test("with the build's bundle, poolClass() is its copy of undici's Pool: the same members and request API", async (t) => {
  const bundled = bundleFile('undici');
  t.ok(bundled, 'npm run build bundled undici at the installed version');
  const Bundled = poolClass();
  t.equal(Bundled, loadPool(bundled ?? null), 'the bundle is what the gateway uses');
  t.not(Bundled, Pool, 'a copy, not the class of the package');
  const members = (c: { prototype: object }): string[] => {
    const names = new Set<string>();
    for (let p: object | null = c.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) for (const n of Object.getOwnPropertyNames(p)) names.add(n);
    return [...names].sort();
  };
  t.same(members(Bundled), members(Pool), "the package's members, inherited ones included");
  for (const method of METHODS) t.equal(typeof (Bundled.prototype as unknown as Record<string, unknown>)[method], 'function', method);
});

t.test("loading the Pool compiles undici's HTTP parser ahead, from the bytes its client compiles", async (t) => {
  // In a fresh process each: this one has loaded undici's files too, which also compile ahead.
  const script = `
    import { poolClass, parserCompiledAhead } from ${JSON.stringify(path.join(repoRoot, 'dist/core/pool.js'))};
    poolClass();
    const ahead = parserCompiledAhead();
    const module = await ahead;
    console.log(JSON.stringify({ ahead: ahead !== undefined, module: module instanceof WebAssembly.Module }));`;
  const run = (env: NodeJS.ProcessEnv): unknown => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
    t.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim());
  };
  t.same(run({}), { ahead: true, module: true }, "the bundle's Pool started the compile, and it made a module");
  t.same(run({ UNDICI_NO_WASM_SIMD: '1' }), { ahead: false, module: false }, 'not when undici is told to use its other parser');
  // V8 finds the module by its bytes when undici's client compiles them on its first connection.
  const bundled = (requireCached(bundleFile('undici')!) as { llhttpSimd: Uint8Array }).llhttpSimd;
  t.same(Buffer.from(bundled), require('undici/lib/llhttp/llhttp_simd-wasm.js'), "the bundle's bytes are the package's parser");
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

t.test("the bundled Pool loads undici's HTTP/2 client (and node:http2) only when a connection negotiates h2", async (t) => {
  const dir = tempDir('gw-pool-h2-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' });
  const pool = path.join(repoRoot, 'dist/core/pool.js');
  const script = `
    import { readFileSync } from 'node:fs';
    import { poolClass } from ${JSON.stringify(pool)};
    const Pool = poolClass();
    const http2AtLoad = process.moduleLoadList.includes('NativeModule http2');
    const http2 = await import('node:http2');
    const server = http2.createSecureServer({ key: readFileSync(${JSON.stringify(path.join(dir, 'key.pem'))}), cert: readFileSync(${JSON.stringify(path.join(dir, 'cert.pem'))}) }, (req, res) => res.end('over ' + req.httpVersion));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const p = new Pool('https://127.0.0.1:' + server.address().port, { connections: 1, allowH2: true, connect: { ca: readFileSync(${JSON.stringify(path.join(dir, 'cert.pem'))}) } });
    const res = await p.request({ method: 'GET', path: '/' });
    const body = await res.body.text();
    await p.close();
    server.close();
    console.log(JSON.stringify({ http2AtLoad, status: res.statusCode, body }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout.trim()), { http2AtLoad: false, status: 200, body: 'over 2.0' }, 'node:http2 unloaded by the Pool alone; h2 works through the stand-in');
});

t.test("after the compile ahead, the parser's code is compiled too: canned answers parse whole, and pools parse as before", async (t) => {
  // A fresh process: the module must be the one this process compiled ahead.
  const script = `
    import http from 'node:http';
    import { poolClass, warmParserAhead } from ${JSON.stringify(path.join(repoRoot, 'dist/core/pool.js'))};
    const Pool = poolClass();
    const warmed = await warmParserAhead();
    const server = http.createServer((req, res) => (req.url === '/chunked' ? (res.write('a'), res.end('b')) : res.end('whole')));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const p = new Pool('http://127.0.0.1:' + server.address().port, { connections: 1 });
    const bodies = [];
    for (const path of ['/chunked', '/whole']) bodies.push(await (await p.request({ method: 'GET', path })).body.text());
    await p.close();
    server.close();
    console.log(JSON.stringify({ warmed, bodies }));`;
  const run = (env: NodeJS.ProcessEnv): unknown => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
    t.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim());
  };
  t.same(run({}), { warmed: true, bodies: ['ab', 'whole'] });
  t.same(run({ UNDICI_NO_WASM_SIMD: '1' }), { warmed: false, bodies: ['ab', 'whole'] }, 'nothing compiled ahead, nothing warmed');
});

t.test('a module that is not llhttp is not warmed', async (t) => {
  const compile = async (wat: string): Promise<WasmModule> => wasm.compile(await watToBinary(wat));
  t.equal(warmParser(await compile('(module (import "other" "f" (func)))')), false, 'an import outside env');
  t.equal(warmParser(await compile('(module (import "env" "m" (memory 1)))')), false, 'an import that is not a function');
  t.equal(warmParser(await compile('(module (func (export "llhttp_alloc") (param i32) (result i32) i32.const 0))')), false, "llhttp's exports missing");
});
