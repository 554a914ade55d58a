/**
 * The build rewrites its bundles as ASCII (core/build/ascii-only.ts): every non-ASCII
 * character (only comments keep them) becomes one ASCII character, so lines keep their
 * lengths and source maps their columns; the built bundles hold none.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { rewriteAsciiOnly } from '../../core/build/ascii-only.js';
import { APP_BUNDLE } from '../../core/build/bundle-app.js';
import { BUNDLED_PACKAGES, VENDOR_DIR } from '../../core/deps/bundled.js';
import { repoRoot } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const NON_ASCII = /[^\x00-\x7f]/;

t.test('each non-ASCII UTF-16 unit becomes one ASCII character, readable where it can be', async (t) => {
  const file = path.join(tempDir('gw-ascii-'), 'b.cjs');
  const before = '/** route → provider — series, `data: …` line, Jimmy Wärting 😀 */\nconst s = "\\u2014";\n';
  writeFileSync(file, before);
  t.equal(rewriteAsciiOnly(file), 6, 'six units replaced (the emoji is two)');
  const after = readFileSync(file, 'utf8');
  t.equal(after, '/** route > provider - series, `data: .` line, Jimmy W?rting ?? */\nconst s = "\\u2014";\n');
  t.same(after.split('\n').map((l) => l.length), before.split('\n').map((l) => l.length), 'every line keeps its length in UTF-16 units');
  t.equal(rewriteAsciiOnly(file), 0, 'an ASCII file is left as it is');
});

t.test('the built bundles are ASCII, so V8 holds them as one-byte text', async (t) => {
  for (const file of [path.join(repoRoot, 'dist/app', APP_BUNDLE), ...BUNDLED_PACKAGES.map((n) => path.join(VENDOR_DIR, `${n}.cjs`))]) {
    t.notMatch(readFileSync(file, 'utf8'), NON_ASCII, `${path.basename(file)} is ASCII`);
  }
  // Licence comments are kept beside the vendor bundles as written, not rewritten.
  t.match(readFileSync(path.join(VENDOR_DIR, 'undici.cjs.LEGAL.txt'), 'utf8'), 'formdata-polyfill. MIT License. Jimmy Wärting');
});
