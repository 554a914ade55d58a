/**
 * `ctx.jsonShape()` parses a body without decoding its text: the same structure as
 * `ctx.json()`, strings outside ASCII as their UTF-8 bytes, and exactly the same refusals.
 * `ctx.json()`'s own decode (ICU's converter behind a strict UTF-8 check) must agree with
 * a strict TextDecoder on every input, valid or not.
 */
import t from 'tap';
import { GatewayError } from '../../core/errors.js';
import { exactJson, shapeJson, shapeText } from '../../core/json-body.js';
import { contextWithBody as context } from '../helpers/context.js';
import { escapeSome, mapStrings, random, randomText, randomValue } from '../helpers/random-json.js';

function thrown(f: () => unknown): GatewayError | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  return undefined;
}

t.test('an ASCII body: the shape is the exact tree, one parse for both', async (t) => {
  const ctx = context(Buffer.from('{"model":"claude-x","messages":[{"role":"user","content":"hi"}]}'));
  const shape = ctx.jsonShape();
  t.equal(ctx.json(), shape, 'the same object');
  t.equal(ctx.jsonShape(), shape, 'kept');
});

t.test('a body outside ASCII: the same structure, its strings as their UTF-8 bytes', async (t) => {
  const value = { model: 'modèle-1', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Ça va → ✓ 😀' }], 'clé': [1, null, 'x'] };
  const ctx = context(Buffer.from(JSON.stringify(value)));
  const shape = ctx.jsonShape() as typeof value;
  t.not(shape, ctx.json(), 'its own tree');
  t.same(ctx.json(), value, 'json() stays exact');
  t.equal(shape.max_tokens, 64);
  t.equal(shape.stream, true);
  t.equal(shape.messages[0].role, 'user', 'ASCII strings are exact');
  t.equal(shape.messages[0].content, Buffer.from('Ça va → ✓ 😀').toString('latin1'), 'one character per byte');
  t.equal(shape.messages[0].content.length, Buffer.byteLength('Ça va → ✓ 😀'));
  t.equal(shapeText(shape.model), 'modèle-1', 'shapeText gives the text back');
  t.equal(shapeText('plain'), 'plain');
  t.same(mapStrings(shape, shapeText), value, 'keys too');
});

t.test('random values: the shape, read back with shapeText, is the exact tree; the exact tree is what JSON.parse reads', async (t) => {
  for (let seed = 1; seed <= 300; seed++) {
    const next = random(seed);
    const value = randomValue(next, 0);
    const bytes = Buffer.from(JSON.stringify(value));
    const exact = exactJson(bytes);
    t.same(exact, JSON.parse(bytes.toString('utf8')), `exact, seed ${seed}`);
    t.same(mapStrings(shapeJson(bytes), shapeText), exact, `shape, seed ${seed}`);
    if (t.passing() === false) break;
  }
});

t.test('escapes of characters outside ASCII: the shape still reads as bytes, and shapeText gives the text', async (t) => {
  for (const [name, text] of [
    ['beside raw text', String.raw`{"model":"claude-\u00e9 é","clé":"\u2192 →","n":1}`],
    ['in an ASCII body (as Python sends)', String.raw`{"model":"claude-\u00e9","s":"\ud83d\ude00","k\u00e9y":true}`],
  ] as const) {
    const bytes = Buffer.from(text);
    const exact = exactJson(bytes);
    const ctx = context(bytes);
    const shape = ctx.jsonShape();
    t.not(shape, ctx.json(), `${name}: a copy, json()'s tree untouched`);
    t.same(ctx.json(), exact, `${name}: json() exact`);
    t.same(mapStrings(shape, shapeText), exact, `${name}: shapeText gives the text back`);
    t.same(mapStrings(shape, (s) => Buffer.from(s, 'latin1').toString('utf8')), exact, `${name}: every string is its UTF-8 bytes`);
  }
  const lone = context(Buffer.from(String.raw`{"s":"\ud83d é"}`)).jsonShape() as { s: string };
  t.equal(shapeText(lone.s), '\ufffd é', 'a lone surrogate, which UTF-8 cannot carry, reads as U+FFFD');
  const proto = context(Buffer.from(String.raw`{"__proto__":{"x":"\u00e9"}}`)).jsonShape() as Record<string, unknown>;
  t.ok(Object.hasOwn(proto, '__proto__'), '__proto__ stays a key, as JSON.parse makes it');
  t.equal(Object.getPrototypeOf(proto), Object.prototype);
  const deep = Buffer.from(`${'['.repeat(20_000)}"\\u00e9"${']'.repeat(20_000)}`);
  t.doesNotThrow(() => context(deep).jsonShape(), 'nesting deeper than the stack');
});

t.test('random values with escapes: the shape read back with shapeText is the exact tree', async (t) => {
  for (let seed = 1; seed <= 300; seed++) {
    const next = random(seed * 7919);
    const bytes = Buffer.from(escapeSome(JSON.stringify(randomValue(next, 0)), next));
    const exact = exactJson(bytes);
    t.same(mapStrings(shapeJson(bytes), shapeText), exact, `seed ${seed}`);
    if (t.passing() === false) break;
  }
});

t.test('refusals: invalid UTF-8 and malformed JSON get the same 400 from both, the error text in real characters', async (t) => {
  const bodies: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['a lone continuation byte', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d])],
    ['a truncated sequence', Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')])],
    ['an encoded surrogate', Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])],
    ['an overlong slash', Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')])],
    ['a BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')])],
    ['a trailing comma after text', Buffer.from('{"a":"café",}')],
    ['text outside a string', Buffer.from('{"a":é}')],
    ['a raw control character in a string', Buffer.from('{"a":"é\u0001"}')],
  ];
  for (const [name, body] of bodies) {
    const viaJson = thrown(() => context(body).json());
    const viaShape = thrown(() => context(body).jsonShape());
    t.equal(viaJson?.code, 'GW_ERR_REQUEST_MALFORMED_JSON', `${name}: json() refuses`);
    t.equal(viaShape?.code, viaJson?.code, `${name}: jsonShape() too`);
    t.equal(viaShape?.message, viaJson?.message, `${name}: with the same message`);
  }
  t.match(thrown(() => context(Buffer.from('{"a":é}')).jsonShape())?.message, /'é'/, 'the text near the fault reads as sent');
  t.match(thrown(() => context(Buffer.from('{"a":"é" "b"}')).jsonShape())?.message, /position 9\b/, 'positions count characters, not bytes');
});

t.test('the decode agrees with a strict TextDecoder on valid and mangled bytes alike', async (t) => {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let refused = 0;
  for (let seed = 1; seed <= 2000; seed++) {
    const next = random(seed);
    const bytes = Buffer.from(JSON.stringify({ text: randomText(next, 1 + Math.floor(next() * 20)) }));
    // Mangle one byte in most cases: invalid sequences of every kind.
    if (next() < 0.8) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
    let expected: unknown;
    let expectedError = false;
    try {
      expected = JSON.parse(strict.decode(bytes));
    } catch {
      expectedError = true;
    }
    const error = thrown(() => exactJson(bytes));
    if (expectedError) {
      refused++;
      t.ok(error, `seed ${seed}: refused`);
    } else t.same(exactJson(bytes), expected, `seed ${seed}: the same value`);
    if (t.passing() === false) break;
  }
  t.ok(refused > 200 && refused < 1800, `both outcomes exercised (${refused} refused)`);
});

t.test('released with json(): a later call parses the bytes again', async (t) => {
  const ctx = context(Buffer.from('{"content":"é"}'));
  const first = ctx.jsonShape();
  ctx.releaseParsed();
  const again = ctx.jsonShape();
  t.not(again, first);
  t.same(again, first);
  ctx.replaceBody(Buffer.from('{"content":"ü"}'));
  t.same(mapStrings(ctx.jsonShape(), shapeText), { content: 'ü' }, 'a replaced body is parsed anew');
});
