/**
 * The build's bundles are their own CommonJS wrapper: compiled as read by `requireCached`
 * (no copy of the text to wrap it), and still loaded by Node's `require`, with `exports`,
 * `require`, `module`, `__filename` and `__dirname` bound either way. Other files are
 * wrapped at load time as before.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import t from 'tap';
import { commonJsScript, SELF_WRAPPED, SELF_WRAPPED_END } from '../../core/deps/commonjs-wrapper.js';
import { requireCached } from '../../core/deps/code-cache.js';
import { tempDir } from '../helpers/temp-dir.js';

const root = path.resolve(import.meta.dirname, '../..');
const BODY = `'use strict';\nconst { join } = require('node:path');\nexports.where = join(__dirname, 'x');\nexports.file = __filename;\nmodule.exports.strict = (function () { return this === undefined; })();\nexports.line = new Error('here').stack.split('\\n')[1];\n`;

function selfWrapped(body: string): string {
  return `${SELF_WRAPPED} \n${body}\n${SELF_WRAPPED_END}\n//# sourceMappingURL=m.cjs.map\n`;
}

t.test('a self-wrapped text is compiled as it is and evaluates to the wrapper function', async (t) => {
  const text = selfWrapped(BODY);
  t.equal(commonJsScript(text), text, 'no copy made to wrap it');
  const fn = new vm.Script(commonJsScript(text)).runInThisContext() as (...args: unknown[]) => void;
  t.type(fn, 'function');
  const module = { exports: {} as Record<string, unknown> };
  fn.call(module.exports, module.exports, createRequire(path.join(root, 'x.cjs')), module, '/a/m.cjs', '/a');
  t.equal(module.exports.where, '/a/x');
  t.equal(module.exports.file, '/a/m.cjs');
  t.equal(module.exports.strict, true, 'the body keeps its "use strict"');
});

t.test('other text is wrapped at load time, its lines where they were', async (t) => {
  const wrapped = commonJsScript(BODY);
  t.not(wrapped, BODY);
  const lines = wrapped.split('\n');
  t.match(lines[0], /^\(function \(exports, require, module, __filename, __dirname\) \{ 'use strict';$/, 'the first body line shares the wrapper\'s line');
  t.equal(lines.indexOf("exports.where = join(__dirname, 'x');"), BODY.split('\n').indexOf("exports.where = join(__dirname, 'x');"));
});

t.test('a self-wrapped file loads the same through Node\'s require and through requireCached', async (t) => {
  const dir = tempDir('gw-cjs-wrapper-');
  const file = path.join(dir, 'm.cjs');
  writeFileSync(file, selfWrapped(BODY));
  const viaRequire = createRequire(file)(file) as Record<string, unknown>;
  const viaCache = requireCached(file) as Record<string, unknown>;
  for (const got of [viaRequire, viaCache]) {
    t.equal(got.where, path.join(dir, 'x'));
    t.equal(got.file, file);
    t.equal(got.strict, true);
    t.match(String(got.line), /m\.cjs:7:16\)/, 'stack lines count from the file\'s own first line');
  }
});

t.test('the build wrote every bundle self-wrapped', async (t) => {
  const validators = readdirSync(path.join(root, 'dist/core/config/precompiled')).filter((f) => f.endsWith('.cjs'));
  t.ok(validators.length > 10, 'the precompiled validators are there');
  const bundles = ['dist/app/gateway.cjs', 'dist/app/code-cache.cjs', 'dist/vendor/undici.cjs', 'dist/vendor/yaml.cjs', 'dist/vendor/prom-client.cjs', 'dist/vendor/lru-cache.cjs', 'dist/vendor/chokidar.cjs'];
  for (const file of [...bundles, ...validators.map((f) => `dist/core/config/precompiled/${f}`)]) {
    const text = readFileSync(path.join(root, file), 'utf8');
    t.ok(text.startsWith(SELF_WRAPPED), `${file} opens with the wrapper`);
    t.match(text, new RegExp(`\\n${SELF_WRAPPED_END.replace(/[()]/g, '\\$&')}\\n`), `${file} closes it`);
  }
});
