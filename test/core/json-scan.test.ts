/**
 * `skimLatin1Json` (long strings read by the WebAssembly scanner) against the reference
 * `JSON.parse(bytes.toString('latin1'))`: the same tree for every text it takes, and it
 * takes nothing JSON.parse would refuse. Hand-picked edges, then random texts with and
 * without damage. Each test also checks the scanner actually took the texts it expects
 * to, so a scanner that always declined could not pass.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { exactJson, readShape, shapeJson, shapeText } from '../../core/json-body.js';
import { GatewayError } from '../../core/errors.js';
import { scanLatin1Json, skimLatin1Json } from '../../core/json-scan/latin1-json.js';
import { contextWithBody } from '../helpers/context.js';
import { mapStrings, random, randomScannable, textFrom } from '../helpers/random-json.js';
import { compileWat, MODULE_PATH, moduleText } from '../helpers/wat.js';

type Outcome = { ok: true; value: unknown } | { ok: false };

function reference(bytes: Buffer): Outcome {
  try {
    return { ok: true, value: JSON.parse(bytes.toString('latin1')) };
  } catch {
    return { ok: false };
  }
}

/** What the scanner made of `bytes`: `undefined` when it declined. */
function skimmed(bytes: Buffer): unknown {
  return skimLatin1Json(bytes);
}

const long = (s: string, n = 600): string => s.repeat(Math.ceil(n / s.length));
/** Padding that makes a text long enough for the scanner (it leaves short bodies to JSON.parse). */
const PAD = long('p', 9000);

t.test('the generated module is the WAT compiled', async (t) => {
  t.equal(readFileSync(MODULE_PATH, 'utf8'), moduleText(await compileWat()), 'regenerate with `npx tsx test/helpers/wat.ts`');
});

t.test('texts the scanner takes: the tree JSON.parse makes', async (t) => {
  const cases: Array<[string, string]> = [
    ['one long plain string', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: PAD }] })],
    ['every simple escape', JSON.stringify({ a: long('q"\\/\b\f\n\r\t\u0001\u001f\u007f é'), pad: PAD })],
    ['escapes as \\u', `{"a":"${long('\\u0041\\u000a\\u007F\\u0022\\u005c\\u002f')}","pad":"${PAD}"}`],
    ['a solidus written escaped and not', `{"a":"${long('a\\/b/c')}","pad":"${PAD}"}`],
    ['a long key stays in the text', `{"${long('k')}":"${PAD}", "${long('j')}"  :  1}`],
    ['a key followed by whitespace then a colon', `{"${long('k')}" \n\t\r : "${PAD}"}`],
    ['a long string right before the end', `["${PAD}"]`],
    ['a top-level string', `"${PAD}"`],
    ['top-level with whitespace around', ` \n "${PAD}" \t`],
    ['__proto__ as a key', `{"__proto__":"${PAD}","x":{"__proto__":["${PAD}"]}}`],
    ['a duplicate key overrides a long value', `{"a":"${PAD}","a":"short","b":"${PAD}"}`],
    ['strings holding escapes outside ASCII stay in the text', `{"a":"${long('\\u00e9\\ud83d\\ude00')}","b":"${PAD}"}`],
    ['bytes outside ASCII (UTF-8 read as latin1)', JSON.stringify({ a: long('ç → 😀'), b: PAD })],
    ['an escape at the last byte of a block', `{"a":"${'y'.repeat(9)}${long('z'.repeat(13) + '\\n')}","pad":"${PAD}"}`],
    ['an escape just before the closing quote', `{"a":"${long('w')}\\n","b":"${PAD}\\\\"}`],
    ['short strings with escapes of every kind', JSON.stringify({ s: 'é\n"\\', t: '\u2028', pad: PAD })],
    ['many long strings', JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ i, text: long(`line ${i}\n\t"quoted"`, 700) })))],
    ['numbers, literals and empty containers', `{"a":[1,-2.5e3,true,false,null,{},[]],"b":"${PAD}"}`],
  ];
  for (const [name, text] of cases) {
    const bytes = Buffer.from(text);
    const want = reference(bytes);
    t.ok(want.ok, `${name}: valid JSON`);
    const got = skimmed(bytes);
    t.not(got, undefined, `${name}: taken by the scanner`);
    if (want.ok) t.strictSame(got, want.value, name);
  }
  // Deeper than a recursive walk could go (tap's own comparison included).
  const deep = `${'['.repeat(20_000)}"${PAD}"${']'.repeat(20_000)}`;
  let inner = skimmed(Buffer.from(deep));
  for (let depth = 0; depth < 20_000 && Array.isArray(inner); depth++) inner = inner[0];
  t.equal(inner, PAD, 'deep nesting: the string found at the bottom');
  // Past the memory the shared scanner keeps (8 MiB): an instance of its own, then the shared one again.
  const huge = JSON.stringify({ image: long('iVBORw0KGgo+/', 5_000_000), after: 'x' });
  t.strictSame(skimmed(Buffer.from(huge)), JSON.parse(huge), 'a 5 MB body');
  t.strictSame(skimmed(Buffer.from(`["${PAD}"]`)), [PAD], 'a small one after it');
  const proto = skimmed(Buffer.from(`{"__proto__":"${PAD}"}`)) as object;
  t.equal(Object.getPrototypeOf(proto), Object.prototype, '__proto__ stays an own data property');
  t.equal(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value, PAD);
});

t.test('texts the scanner declines: left to JSON.parse, which decides', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['a short body', JSON.stringify({ a: long('x', 2000) }), true],
    ['no long string', JSON.stringify(Array.from({ length: 2000 }, (_, i) => `s${i}`)), true],
    ['long strings among many short ones', JSON.stringify({ tools: Array.from({ length: 300 }, (_, i) => ({ name: `t${i}`, type: 'object', required: ['path'] })), text: PAD }), true],
    ['an escaped U+0000 in a short string', `{"a":"\\u0000","b":"${PAD}"}`, true],
    ['an escaped U+0000 in a key', `{"\\u0000":1,"b":"${PAD}"}`, true],
    ['a raw control byte in a long string', `{"a":"${PAD}\u0001"}`, false],
    ['a raw newline in a short string', `{"a":"x\ny","b":"${PAD}"}`, false],
    ['a bad escape', `{"a":"${PAD}\\x"}`, false],
    ['a short \\u escape', `{"a":"${PAD}\\u12"}`, false],
    ['a \\u escape with a bad digit', `{"a":"${PAD}\\u12g4"}`, false],
    ['a string left open', `{"a":"${PAD}`, false],
    ['a backslash as the last byte', `{"a":"${PAD}\\`, false],
    ['a missing comma', `{"a":"${PAD}" "b":1}`, false],
    ['a missing colon', `{"a" "${PAD}"}`, false],
    ['garbage after the value', `{"a":"${PAD}"}x`, false],
    ['a quote inside a number', `{"a":1"${PAD}"}`, false],
  ];
  for (const [name, text, valid] of cases) {
    const bytes = Buffer.from(text);
    t.equal(reference(bytes).ok, valid, `${name}: JSON.parse ${valid ? 'reads it' : 'refuses it'}`);
    t.equal(skimmed(bytes), undefined, `${name}: declined`);
  }
});

t.test('the request body readers: the same trees and the same refusals on long bodies', async (t) => {
  const good = Buffer.from(JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: long('a "b"\n', 50_000) }] }));
  t.strictSame(exactJson(good), JSON.parse(good.toString()));
  t.strictSame(shapeJson(good), JSON.parse(good.toString()));
  const utf8 = Buffer.from(JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: long('é → "b"\n', 50_000) }] }));
  t.strictSame(shapeJson(utf8), JSON.parse(utf8.toString('latin1')), 'the shape: UTF-8 bytes one character per byte');
  for (const bad of [`{"a":"${PAD}\u0001"}`, `{"a":"${PAD}" "b":1}`]) {
    const bytes = Buffer.from(bad);
    let message = '';
    try {
      JSON.parse(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    for (const read of [exactJson, shapeJson]) {
      const err = (() => {
        try {
          read(bytes);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      t.ok(err instanceof GatewayError, `${read.name}: refused`);
      t.equal((err as GatewayError).message, `Request body is not valid JSON: ${message}`, `${read.name}: V8's own message`);
    }
  }
});

/** A random JSON text of long and short strings; `next` decides everything. */
function randomText(next: () => number): string {
  const str = textFrom(next, ['a', 'Z', ' ', '"', '\\', '\n', '\t', '\u0001', '\u001f', '\u007f', 'é', '→', '😀', '/', '\b', '\f', '\r']);
  let json = JSON.stringify({ pad: str(8200), v: randomScannable(next, str) });
  // Some characters written as \u escapes (UTF-16 code units), as Python's json.dumps writes them.
  const escape = (c: string): string => Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');
  if (next() < 0.5) json = json.replace(next() < 0.5 ? /[a/]/g : /[^\x20-\x7e]|[a/]/gu, (c) => (next() < 0.3 ? escape(c) : c));
  return json;
}

const DAMAGE = ['"', '\\', '\u0000', '\u0001', '\n', ':', ',', '}', ']', 'u', '0', 'é'];

t.test('random texts, whole and damaged: never a different tree, never a text JSON.parse refuses', async (t) => {
  let taken = 0;
  let refused = 0;
  const runs = 600;
  for (let seed = 1; seed <= runs; seed++) {
    const next = random(seed);
    let text = randomText(next);
    const damaged = seed % 2 === 0;
    if (damaged) {
      for (let hits = 1 + Math.floor(next() * 3); hits > 0; hits--) {
        const at = Math.floor(next() * text.length);
        const by = DAMAGE[Math.floor(next() * DAMAGE.length)];
        text = next() < 0.5 ? text.slice(0, at) + by + text.slice(at) : text.slice(0, at) + by + text.slice(at + 1);
      }
    }
    const bytes = Buffer.from(text);
    const want = reference(bytes);
    const got = skimmed(bytes);
    if (got !== undefined) {
      taken++;
      if (!want.ok) t.fail(`seed ${seed}: taken, but JSON.parse refuses it`);
      else if (!t.strictSame(got, want.value, `seed ${seed}`)) break;
    }
    if (!want.ok) refused++;
  }
  t.ok(taken > runs / 3, `the scanner took ${taken} of ${runs}`);
  t.ok(refused > runs / 10, `JSON.parse refused ${refused} of ${runs}`);
});

/** Whether a string of valid JSON text holds a \u escape of U+0080 or above: each escape read in turn. */
function preciseBeyond(text: string): boolean {
  for (const m of text.matchAll(/\\(?:u([0-9a-fA-F]{4})|.)/gs)) if (m[1] !== undefined && parseInt(m[1], 16) >= 0x80) return true;
  return false;
}

/** json-body's conservative escapesBeyondAscii, as written there: any `\u` not followed by 00[0-7]. */
function conservativeBeyond(text: string): boolean {
  return /\\u(?!00[0-7])/.test(text);
}

t.test('escapes outside ASCII: exact where the scanner read every string, never more than the conservative scan', async (t) => {
  let exactChecked = 0;
  let exactBeyond = 0;
  for (let seed = 1; seed <= 400; seed++) {
    // Half with a long ASCII string the scanner records, beside strings it leaves in the text.
    const text = seed % 2 ? randomText(random(seed)) : `{"long":"${PAD}","rest":${randomText(random(seed))}}`;
    const bytes = Buffer.from(text);
    if (!reference(bytes).ok) continue;
    const scan = scanLatin1Json(bytes, true)!;
    const latin1 = bytes.toString('latin1');
    const precise = preciseBeyond(latin1);
    if (precise) t.ok(scan.escapesBeyondAscii, `seed ${seed}: seen`);
    if (scan.escapesBeyondAscii) t.ok(conservativeBeyond(latin1), `seed ${seed}: no more than the conservative scan`);
    if (scan.tree !== undefined) {
      exactChecked++;
      if (precise) exactBeyond++;
      t.equal(scan.escapesBeyondAscii, precise, `seed ${seed}: exact`);
    }
  }
  t.ok(exactChecked > 50 && exactBeyond > 10, `${exactChecked} exact, ${exactBeyond} of them with such an escape`);
  const declined = Buffer.from(JSON.stringify({ tools: Array.from({ length: 300 }, (_, i) => ({ name: `t${i}` })), text: `${PAD}\\\\u00e9` }));
  const scan = scanLatin1Json(declined, true)!;
  t.equal(scan.tree, undefined, 'a dense body is declined');
  t.equal(scan.escapesBeyondAscii, true, 'and then read as conservatively as before: an escaped backslash before u00e9 counts');
  t.equal(scanLatin1Json(Buffer.from(JSON.stringify({ text: `${PAD}\\u00e9` })), true)!.escapesBeyondAscii, false, 'read exactly, the same text does not');
});

t.test('long bodies through readShape: the same shape and exact tree as the reading of short ones', async (t) => {
  for (let seed = 1; seed <= 300; seed++) {
    const text = randomText(random(seed));
    const bytes = Buffer.from(text);
    if (!reference(bytes).ok) continue;
    const exact = JSON.parse(bytes.toString('utf8'));
    let kept: unknown;
    const read = readShape(bytes, { json: () => exactJson(bytes), keepParsed: (tree) => (kept ??= tree) });
    if (!t.strictSame(mapStrings(read.shape, shapeText), exact, `seed ${seed}: the shape reads back as the exact tree`)) break;
    const latin1 = bytes.toString('latin1');
    const ascii = !/[^\x00-\x7f]/.test(latin1);
    if (!preciseBeyond(latin1)) t.equal(read.reading, ascii ? 'exact' : 'bytes', `seed ${seed}: reading`);
    else t.equal(read.reading, 'escaped', `seed ${seed}: reading`);
    if (ascii && kept !== undefined) t.strictSame(kept, exact, `seed ${seed}: the exact tree kept on the way`);
  }
  const ascii = JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: PAD }] });
  const ctx = contextWithBody(Buffer.from(ascii));
  t.equal(ctx.jsonShape(), ctx.json(), 'a long ASCII body: one tree for both');
  t.strictSame(ctx.json(), JSON.parse(ascii));
  const utf8 = JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: `${PAD} ✓` }] });
  const other = contextWithBody(Buffer.from(utf8));
  t.strictSame(mapStrings(other.jsonShape(), shapeText), JSON.parse(utf8), 'outside ASCII: the shape');
  t.strictSame(other.json(), JSON.parse(utf8), 'and its own exact tree');
  t.throws(() => contextWithBody(Buffer.from([...Buffer.from(`{"a":"${PAD}`), 0xff, ...Buffer.from('"}')])).jsonShape(), /not valid UTF-8/, 'invalid UTF-8 refused');
});
