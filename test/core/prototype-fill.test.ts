/**
 * The build's prototype-fill plugin (`core/deps/prototype-fill.ts`): a class prototype a
 * package fills in a loop is in dictionary mode while it is filled (V8 copies a fast-mode
 * prototype's descriptors at every add), fast again once calls through it are cached, with
 * the same methods; a file whose loop moved is bundled unchanged, with a warning; and the
 * ioredis bundle the build made has it, for the ioredis installed now.
 * V8's own view of the prototype is read with `%HasFastProperties` in a child Node.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import t from 'tap';
import { bundleFile } from '../../core/deps/bundled.js';
import { DICTIONARY_MODE_KEY, PROTOTYPE_FILLS, prototypeFills, type PrototypeFill } from '../../core/deps/prototype-fill.js';
import { tempDir } from '../helpers/temp-dir.js';

const require = createRequire(import.meta.url);

/** A package file filling a class's prototype as ioredis's Commander does; `isFast` is the child's probe. */
const FIXTURE = `
class Commands {}
const names = Array.from({ length: 600 }, (_, i) => 'c' + i);
const fastWhileFilled = [];
names.forEach(function (name) {
  fastWhileFilled.push(globalThis.isFast(Commands.prototype));
  Commands.prototype[name] = function () { return name; };
});
class Client extends Commands {}
// V8 caches a lookup once the calling function has run a few times: that makes the chain fast.
const call = (client) => client.c599();
let last;
for (let i = 0; i < 100; i++) last = call(new Client());
module.exports = { fastWhileFilled, fastAfterUse: globalThis.isFast(Commands.prototype), own: Object.getOwnPropertyNames(Commands.prototype), last };
`;
const FIXTURE_FILL: PrototypeFill = { file: /[\\/]commands\.js$/, before: 'names.forEach(', prototype: 'Commands.prototype' };

interface Report {
  fastWhileFilled: boolean[];
  fastAfterUse: boolean;
  own: string[];
  last: string;
}

/** V8's own view, for a child Node run with `--allow-natives-syntax`: whether an object has fast properties. */
const IS_FAST_PROBE = `globalThis.isFast = new Function('o', 'return %HasFastProperties(o)');`;

/** Run `script` after the probe in a child Node and parse the JSON it prints. */
function runWithProbe<T>(script: string): T {
  return JSON.parse(execFileSync(process.execPath, ['--allow-natives-syntax', '-e', IS_FAST_PROBE + script], { cwd: path.resolve(import.meta.dirname, '../..'), encoding: 'utf8' })) as T;
}

/** What a bundled fixture reports. */
const runFixture = (file: string): Report => runWithProbe<Report>(`console.log(JSON.stringify(require(${JSON.stringify(file)})));`);

async function bundleFixture(dir: string, fills: readonly PrototypeFill[] | undefined): Promise<{ file: string; warnings: string[] }> {
  const entry = path.join(dir, 'commands.js');
  writeFileSync(entry, FIXTURE);
  const file = path.join(dir, fills ? 'with-plugin.cjs' : 'without-plugin.cjs');
  const result = await build({ entryPoints: [entry], outfile: file, bundle: true, format: 'cjs', platform: 'node', logLevel: 'silent', plugins: fills ? [prototypeFills(fills)] : [] });
  return { file, warnings: result.warnings.map((w) => w.text) };
}

t.test('a prototype filled in a loop is in dictionary mode while filled, and fast once used', async (t) => {
  const dir = tempDir('gw-prototype-fill-');
  const without = runFixture((await bundleFixture(dir, undefined)).file);
  const withFill = await bundleFixture(dir, [FIXTURE_FILL]);
  const filled = runFixture(withFill.file);
  t.ok(without.fastWhileFilled.every(Boolean), 'without the plugin V8 keeps the class prototype fast at every add (the O(n²) path)');
  t.notOk(filled.fastWhileFilled.some(Boolean), 'with it the prototype is in dictionary mode at every add');
  t.same(withFill.warnings, [], 'no warning: the loop was found');
  t.ok(filled.fastAfterUse && without.fastAfterUse, 'fast again once calls through it are cached, as without the plugin');
  t.same(filled.own, without.own, 'the same own properties: nothing left of the added-and-deleted one');
  t.equal(filled.last, 'c599', 'a method added in the loop is called through the subclass');
});

t.test('a file whose loop moved is bundled unchanged, with a warning naming what to update', async (t) => {
  const dir = tempDir('gw-prototype-fill-');
  const moved = await bundleFixture(dir, [{ ...FIXTURE_FILL, before: 'for (const name of names)' }]);
  t.equal(moved.warnings.length, 1, 'one warning');
  t.match(moved.warnings[0], /"for \(const name of names\)" not found, so Commands\.prototype is filled in fast mode .*PROTOTYPE_FILLS in core\/deps\/prototype-fill\.ts/);
  t.ok(runFixture(moved.file).fastWhileFilled.every(Boolean), 'the file is as the package wrote it');
});

t.test('the installed ioredis has each loop the plugin looks for, and the build\'s bundle has the line', async (t) => {
  const commander = require.resolve('ioredis/built/utils/Commander.js');
  const fill = PROTOTYPE_FILLS.find((f) => f.file.test(commander));
  t.ok(fill, 'a fill names ioredis\'s Commander');
  t.ok(readFileSync(commander, 'utf8').includes(fill!.before), `${path.basename(commander)} still has "${fill!.before}"`);
  const bundle = readFileSync(bundleFile('ioredis')!, 'utf8');
  const deleted = `delete p.${DICTIONARY_MODE_KEY}`;
  t.equal(bundle.split(deleted).length - 1, 1, 'dist/vendor/ioredis.cjs deletes the property once, before the fill');
  t.ok(bundle.indexOf(deleted) < bundle.indexOf(fill!.before), 'before the loop');
});

t.test('the bundled ioredis has every command method the package has, on a fast prototype', async (t) => {
  const out = runWithProbe<Record<'bundle' | 'pkg', { own: string[]; fast: boolean }>>(`
    const names = (m) => { const R = m.default; const C = Object.getPrototypeOf(R.prototype); return { own: Object.getOwnPropertyNames(C).sort(), fast: isFast(C) }; };
    console.log(JSON.stringify({ bundle: names(require(${JSON.stringify(bundleFile('ioredis'))})), pkg: names(require('ioredis')) }));`);
  t.ok(out.bundle.own.length > 600, `Commander.prototype holds ${out.bundle.own.length} properties`);
  t.same(out.bundle.own, out.pkg.own, 'the same as the package\'s own Commander.prototype');
  t.ok(out.bundle.fast, 'in fast mode once loaded, as the package\'s');
});
