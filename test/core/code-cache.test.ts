/**
 * Code caches for the build's CommonJS files: `requireCached` loads a file as `require`
 * would, a cache written after running is used by the next process, a cache of other bytes
 * (even of the same length) or one V8 refuses is passed over, and the build wrote caches
 * that a start-up's files use.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { CODE_CACHE_SUFFIX, codeCacheUse, requireCached } from '../../core/deps/code-cache.js';
import { VENDOR_DIR } from '../../core/deps/bundled.js';
import { tempDir } from '../helpers/temp-dir.js';

const root = path.resolve(import.meta.dirname, '../..');
const codeCache = path.join(root, 'dist/core/deps/code-cache.js');

/** In a fresh process: load `file` through the built code-cache module, call its `run()`, maybe write caches; prints the result and the cache's use. */
function loadIn(file: string, write = false): { result: string; use: string } {
  const script = `
    const { requireCached, codeCacheUse, writeCodeCaches } = await import(${JSON.stringify(codeCache)});
    const result = requireCached(${JSON.stringify(file)}).run();
    if (${write}) writeCodeCaches();
    console.log(JSON.stringify({ result, use: codeCacheUse().get(${JSON.stringify(file)}) }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { result: string; use: string };
}

function module(dir: string, answer: string): string {
  const file = path.join(dir, 'm.cjs');
  writeFileSync(file, `'use strict';\nconst { dep } = require('./dep.cjs');\nexports.dir = __dirname;\nexports.file = __filename;\nexports.run = function run() { return dep('${answer}'); };\n`);
  return file;
}

t.test('requireCached loads a file as require does, once', async (t) => {
  const dir = tempDir('gw-code-cache-');
  writeFileSync(path.join(dir, 'dep.cjs'), 'exports.dep = (s) => `dep:${s}`;\n');
  const file = module(dir, 'a');
  const m = requireCached(file) as { run(): string; dir: string; file: string };
  t.equal(m.run(), 'dep:a', 'its own require resolves beside it');
  t.equal(m.dir, dir);
  t.equal(m.file, file);
  t.equal(requireCached(file), m, 'a second load is the same module');
  t.equal(codeCacheUse().get(file), 'none', 'no cache beside it');
});

t.test('a cache written after running is used by the next process; other bytes or a refused cache are passed over', async (t) => {
  const dir = tempDir('gw-code-cache-');
  writeFileSync(path.join(dir, 'dep.cjs'), 'exports.dep = (s) => `dep:${s}`;\n');
  const file = module(dir, 'a');
  t.same(loadIn(file, true), { result: 'dep:a', use: 'none' }, 'the first process writes the cache');
  t.ok(existsSync(file + CODE_CACHE_SUFFIX));
  t.same(loadIn(file), { result: 'dep:a', use: 'used' }, 'the next one uses it');

  // Same length, other code: V8's own check (the length) would take the cache.
  const cache = readFileSync(file + CODE_CACHE_SUFFIX);
  module(dir, 'b');
  t.same(loadIn(file), { result: 'dep:b', use: 'stale' }, 'a cache of other bytes is passed over: the new code runs');

  // The right source hash before bytes V8 cannot take.
  module(dir, 'a');
  writeFileSync(file + CODE_CACHE_SUFFIX, Buffer.concat([cache.subarray(0, 32), Buffer.alloc(256, 7)]));
  t.same(loadIn(file), { result: 'dep:a', use: 'rejected' }, 'a cache V8 refuses: compiled as without one');
});

t.test('the build wrote caches that a start-up uses', async (t) => {
  for (const name of ['yaml', 'prom-client']) t.ok(existsSync(path.join(VENDOR_DIR, `${name}.cjs${CODE_CACHE_SUFFIX}`)), `${name}'s bundle has one`);
  const script = `
    const { codeCacheUse } = await import(${JSON.stringify(codeCache)});
    await import(${JSON.stringify(path.join(root, 'dist/core/gateway-metrics.js'))});
    const { loadConfigFile } = await import(${JSON.stringify(path.join(root, 'dist/core/config/load.js'))});
    loadConfigFile(${JSON.stringify(path.join(root, 'configs/config.yaml'))});
    console.log(JSON.stringify(Object.fromEntries([...codeCacheUse()].map(([f, use]) => [f.slice(f.lastIndexOf('/') + 1), use]))));`;
  const uses = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })) as Record<string, string>;
  t.equal(uses['yaml.cjs'], 'used');
  t.equal(uses['prom-client.cjs'], 'used');
  const validators = Object.entries(uses).filter(([f]) => /^[0-9a-f]{64}\.cjs$/.test(f));
  t.ok(validators.length >= 1, 'the config validator loaded');
  t.same(validators.filter(([, use]) => use !== 'used'), [], 'every precompiled validator loaded used its cache');
});
