/**
 * `ctx.jsonPick(reads)` and the tape under it (strings.wat's `tape`): the scanner takes
 * exactly the texts JSON.parse takes (hand-picked edges of the grammar, then random texts
 * with every spelling JSON allows, whole and damaged), a pick of everything is the shape
 * itself, and a pick names only what it reads, with the shape's values there.
 */
import t from 'tap';
import { readShape, shapeText } from '../../core/json-body.js';
import { pick } from '../../core/json-pick/pick.js';
import { unionReads, WHOLE, type JsonReads } from '../../core/json-pick/reads.js';
import { readTape } from '../../core/json-pick/tape.js';
import { contextWithBody } from '../helpers/context.js';
import { pruneByReads } from '../helpers/json-prune.js';
import { mapStrings, random } from '../helpers/random-json.js';
import { sessionBody } from '../../bench/lib/session-body.js';

/** Whether the gateway's exact reading takes the bytes: valid UTF-8 that JSON.parse accepts. */
function parses(bytes: Buffer): boolean {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
    return true;
  } catch {
    return false;
  }
}

/** Deep equality without recursion (tap's and JSON.stringify's overflow the stack at depths JSON.parse takes). */
function sameDeep(a: unknown, b: unknown): boolean {
  const work: Array<[unknown, unknown]> = [[a, b]];
  while (work.length > 0) {
    const [x, y] = work.pop()!;
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') {
      if (!Object.is(x, y)) return false;
      continue;
    }
    if (Array.isArray(x) !== Array.isArray(y) || Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return false;
    const keys = Object.keys(x);
    if (keys.join('\0') !== Object.keys(y).join('\0')) return false;
    for (const key of keys) work.push([(x as Record<string, unknown>)[key], (y as Record<string, unknown>)[key]]);
  }
  return true;
}

/** The shape `ctx.jsonShape()` gives for the bytes. */
function shapeOf(bytes: Buffer): unknown {
  return readShape(bytes, { json: () => JSON.parse(bytes.toString('utf8')), keepParsed: (tree) => tree }).shape;
}

t.test('the grammar\'s edges: taken exactly when JSON.parse takes them', async (t) => {
  const texts = [
    '0', '-0', '1', '-1', '10', '01', '-01', '00', '-', '+1', '1.', '.5', '1.5', '1.5e3', '1e', '1e+', '1e-5', '1E+05', '1.e5', '-0.0e-0',
    '1x', '0x10', 'Infinity', 'NaN', '1_000', '123456789012345678901234567890', '1e400', '-1e-400', '9007199254740993',
    'true', 'false', 'null', 'tru', 'nul', 'fals', 'falsey', 'True', 'nulll', 'true false',
    '""', '"a"', '"\\""', '"\\\\"', '"\\/"', '"\\b\\f\\n\\r\\t"', '"\\u0000"', '"\\u00e9\\uD83D\\ude00"', '"\\ud800"',
    '"\\x"', '"\\u12"', '"\\u12g4"', '"\\U0041"', '"\\', '"abc', '"a\nb"', '"a\tb"', '"\u007f"', '"é😀"',
    '{}', '[]', '{"a":1}', '{"a":1,}', '[1,]', '[,1]', '{,}', '{"a" 1}', '{"a":}', '{"a"}', '{a:1}', "{'a':1}", '[1 2]', '[1,,2]',
    '{"a":1 "b":2}', '{"a":[}', '[{]', '[1]]', '{"a":1}}', ']', '}', '[', '{', '', ' ', '\n\t\r ',
    ' \n[ 1 ,\t2 ]\r\n', '\f1', '\u000b1', '1\u00a0', '\ufeff{}', '{"__proto__":{"x":1}}', '{"a":1,"a":2}', '[[[[[[[[[[]]]]]]]]]]',
    '{"a":{"b":{"c":[1,{"d":null}]}}}', '"\u0001"', '[-]', '[1e5, -2.5E-3, 0.0, -0]', '{"":""}', '{"\\u0061":1}',
  ];
  let taken = 0;
  for (const text of texts) {
    const bytes = Buffer.from(text);
    const want = parses(bytes);
    const tape = readTape(bytes);
    t.equal(tape !== undefined, want, `${JSON.stringify(text)}: ${want ? 'taken' : 'refused'}`);
    if (tape && want) {
      taken++;
      t.strictSame(pick(tape, WHOLE), shapeOf(bytes), `${JSON.stringify(text)}: the shape`);
    }
  }
  t.ok(taken > 30, `${taken} taken`);
  t.ok(Object.is(pick(readTape(Buffer.from('-0'))!, WHOLE), -0), '-0 is negative zero, as JSON.parse reads it');
  t.equal(readTape(Buffer.from([0x22, 0xff, 0x22])), undefined, 'not UTF-8: refused, as the exact reading refuses it');
  const deep = `${'['.repeat(50_000)}1${']'.repeat(50_000)}`;
  t.ok(readTape(Buffer.from(deep)), 'nesting deeper than any stack');
  t.equal(readTape(Buffer.from(`${'['.repeat(50_000)}1`)), undefined, 'left open that deep');
  t.equal(readTape(Buffer.from('['.repeat(10_000))), undefined, 'nothing but openings');
});

const SPACES = ['', '', '', ' ', '\n', '\t', '\r\n  '];
/** Numbers as a client may spell them. */
const NUMBERS = ['0', '-0', '7', '42', '-13', '3.25', '0.5', '1e3', '2E-2', '-4.5e+10', '123456789', '1234567890123', '9.99', '1e400'];
const STRING_PIECES = ['a', 'Zz', ' ', 'é', '→', '😀', '\\"', '\\\\', '\\/', '\\n', '\\t', '\\b', '\\f', '\\r', '\\u0041', '\\u00e9', '\\uD83D\\uDE00', '\\u001b', '\\ud800', 'x'.repeat(40)];
const KEYS = ['model', 'messages', 'role', 'content', 'type', 'text', 'a', '__proto__', 'mod\\u0065l', 't\\u00e9', ''];

/** A random JSON text with every spelling JSON allows: whitespace, numbers, escapes, keys. */
function randomJson(next: () => number, depth = 0): string {
  const ws = (): string => SPACES[Math.floor(next() * SPACES.length)];
  const str = (): string => `"${Array.from({ length: Math.floor(next() * 6) }, () => STRING_PIECES[Math.floor(next() * STRING_PIECES.length)]).join('')}"`;
  const roll = next();
  if (depth > 4 || roll < 0.3) return str();
  if (roll < 0.45) return NUMBERS[Math.floor(next() * NUMBERS.length)];
  if (roll < 0.5) return ['true', 'false', 'null'][Math.floor(next() * 3)];
  if (roll < 0.7) return `[${ws()}${Array.from({ length: Math.floor(next() * 5) }, () => ws() + randomJson(next, depth + 1) + ws()).join(',')}]`;
  const members = Array.from({ length: Math.floor(next() * 6) }, () => `${ws()}"${KEYS[Math.floor(next() * KEYS.length)]}"${ws()}:${ws()}${randomJson(next, depth + 1)}${ws()}`);
  return `{${members.join(',')}${members.length === 0 ? ws() : ''}}`;
}

/** Bytes that matter to JSON's grammar, and some that only look like they might. */
const DAMAGE = ['"', '\\', ':', ',', '{', '}', '[', ']', '0', '1', '-', '+', '.', 'e', 'E', 'u', 't', 'n', 'f', ' ', '\t', '\u0000', '\u0001', '\f', '\u000b', '\u00a0', 'é', 'x'];

t.test('random texts, whole and damaged: the tape takes what JSON.parse takes, and picks all of it as the shape', async (t) => {
  let accepted = 0;
  let refused = 0;
  const runs = 4000;
  for (let seed = 1; seed <= runs; seed++) {
    const next = random(seed);
    let text = `${SPACES[seed % SPACES.length]}${randomJson(next)}${SPACES[(seed >> 3) % SPACES.length]}`;
    if (seed % 2 === 0) {
      for (let hits = 1 + Math.floor(next() * 2); hits > 0; hits--) {
        const at = Math.floor(next() * (text.length + 1));
        const by = DAMAGE[Math.floor(next() * DAMAGE.length)];
        const how = next();
        text = how < 0.4 ? text.slice(0, at) + by + text.slice(at) : how < 0.8 ? text.slice(0, at) + by + text.slice(at + 1) : text.slice(0, at) + text.slice(at + 1);
      }
    }
    const bytes = Buffer.from(text);
    const want = parses(bytes);
    const tape = readTape(bytes);
    if ((tape !== undefined) !== want) {
      t.fail(`seed ${seed}: ${want ? 'refused' : 'taken'}, JSON.parse ${want ? 'takes' : 'refuses'} ${JSON.stringify(text)}`);
      break;
    }
    if (!tape) {
      refused++;
      continue;
    }
    accepted++;
    if (!t.strictSame(pick(tape, WHOLE), shapeOf(bytes), `seed ${seed}: the whole pick is the shape`)) break;
  }
  t.ok(accepted > runs / 3, `${accepted} taken`);
  t.ok(refused > runs / 5, `${refused} refused`);
});

/** Random reads that name some of the keys the texts use. */
function randomReads(next: () => number, depth = 0): JsonReads {
  const roll = next();
  if (depth > 3 || roll < 0.1) return roll < 0.05 ? WHOLE : {};
  const members: Record<string, JsonReads> = {};
  for (const key of ['model', 'messages', 'role', 'content', 'type', 'text', 'a', 'té', '']) if (next() < 0.4) members[key] = randomReads(next, depth + 1);
  if (next() < 0.3) Object.defineProperty(members, '__proto__', { value: randomReads(next, depth + 1), enumerable: true });
  return {
    ...(next() < 0.7 ? { members } : {}),
    ...(next() < 0.3 ? { otherMembers: randomReads(next, depth + 1) } : {}),
    ...(next() < 0.6 ? { items: randomReads(next, depth + 1) } : {}),
    ...(next() < 0.5 ? { text: true as const } : {}),
    ...(next() < 0.2 ? { lastItems: Math.floor(next() * 4) } : {}),
  };
}

t.test('random reads of random texts: the shape where they look, emptied elsewhere', async (t) => {
  let checked = 0;
  let smaller = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const next = random(seed * 7919);
    const bytes = Buffer.from(randomJson(next));
    const tape = readTape(bytes);
    if (!tape) continue;
    const reads = randomReads(next);
    const shape = shapeOf(bytes);
    const got = pick(tape, reads);
    checked++;
    if (JSON.stringify(got).length < JSON.stringify(shape).length) smaller++;
    // The reference reads text: both sides as text (reads name members as text).
    if (!t.strictSame(mapStrings(got, shapeText), pruneByReads(mapStrings(shape, shapeText), reads), `seed ${seed}: ${JSON.stringify(reads)}`)) break;
  }
  t.ok(checked > 2500 && smaller > checked / 3, `${checked} picks, ${smaller} of them smaller than the shape`);
});

t.test('room: dense, deep and large bodies get a tape, as JSON.parse takes them', async (t) => {
  // The first scan has room for one value per 8 bytes and 4,096 levels; these need the second.
  const dense = `[${'0,'.repeat(300_000)}0]`;
  t.strictSame(pick(readTape(Buffer.from(dense))!, { items: {} }), JSON.parse(dense), 'one value per two bytes');
  const denseBad = `[${'0,'.repeat(300_000)}0,]`;
  t.equal(readTape(Buffer.from(denseBad)), undefined, 'the same with a trailing comma: refused after the second scan');
  const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
  t.ok(sameDeep(pick(readTape(Buffer.from(deep))!, WHOLE), JSON.parse(deep)), '5,000 levels, read whole without recursion');
  const deepArrays = `[${'[1,{"b":'.repeat(5_000)}[]${'}]'.repeat(5_000)}]`;
  t.ok(sameDeep(pick(readTape(Buffer.from(deepArrays))!, { items: WHOLE }), JSON.parse(deepArrays)), 'arrays and objects in turn, read whole below the root');
  t.notOk(sameDeep(JSON.parse(deepArrays), JSON.parse(deepArrays.replace('[]', '[0]'))), 'the comparison sees a difference that deep');
  // A coding agent's long session: its turn past 1 MiB.
  const turn = Buffer.from(sessionBody(3 * 1024 * 1024, false, 'claude-big', 'agent text é → 😀 '));
  const reads: JsonReads = { members: { model: { text: true }, messages: { items: { members: { role: { text: true }, content: { items: { members: { type: { text: true } } } } } } } } };
  const tape = readTape(turn);
  t.ok(tape, `a ${turn.length}-byte turn`);
  t.strictSame(pick(tape!, reads), pruneByReads(shapeOf(turn), reads), 'picked as the shape holds it');
  t.equal(readTape(Buffer.from(`"${'x'.repeat(4 * 1024 * 1024)}"`)), undefined, 'past 4 MiB the shape reads it');
});

t.test('unionReads: the last items read by one side, all of them by the other', async (t) => {
  const role: JsonReads = { members: { role: { text: true } } };
  const type: JsonReads = { members: { type: {} } };
  t.strictSame(unionReads({ items: role, lastItems: 2 }, {}), { items: role, lastItems: 2 }, 'the other side reads no items');
  t.strictSame(unionReads({ items: role, lastItems: 2 }, { items: type }), { items: unionReads(role, type) }, 'the other side reads all of them');
  t.strictSame(unionReads({ items: role, lastItems: 2 }, { items: type, lastItems: 5 }), { items: unionReads(role, type), lastItems: 5 }, 'both read the last: the more of them');
  const text = '[{"role":"a","type":"x"},{"role":"b","type":"y"},{"role":"c","type":"z"}]';
  t.strictSame(pick(readTape(Buffer.from(text.padEnd(3000)))!, { items: role, lastItems: 2 }), [{}, { role: 'b' }, { role: 'c' }], 'the earlier items by their type alone');
});

t.test('names matched as JSON.parse reads them: escaped, outside ASCII, __proto__', async (t) => {
  const text = String.raw`{"mod\u0065l":"claude","t\u00e9":1,"té":2,"__proto__":{"x":"\u00e9 é \ud800"},"stream":true,"max_tokens":"x"}`;
  const tape = readTape(Buffer.from(text))!;
  const reads: JsonReads = { members: { model: { text: true }, 'té': {}, __proto__: { whole: true }, stream: {} } as Record<string, JsonReads> };
  // Written with defineProperty: in an object literal `__proto__:` would set the prototype.
  Object.defineProperty(reads.members, '__proto__', { value: WHOLE, enumerable: true });
  const got = pick(tape, reads) as Record<string, unknown>;
  t.equal(got.model, 'claude', 'an escaped name is the name it spells');
  t.equal(shapeText(Object.keys(got)[1]), 'té', 'a name outside ASCII, escaped or not, in the shape\'s form');
  t.equal(got[Object.keys(got)[1]], 2, 'the later of two spellings of one name wins, as in JSON.parse');
  const proto = Object.getOwnPropertyDescriptor(got, '__proto__')?.value as { x: string };
  t.equal(Object.getPrototypeOf(got), Object.prototype, '__proto__ is a member, not the prototype');
  t.equal(shapeText(proto.x), 'é é \ufffd', 'escapes decoded, a lone surrogate as U+FFFD, all as the shape holds them');
  t.notOk('max_tokens' in got, 'a member not read is left out');
});

t.test('the context: picks from the tape, refuses as the shape refuses, forgets with the body', async (t) => {
  const content = 'é '.repeat(3000);
  const body = Buffer.from(JSON.stringify({ model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content }], tools: [{ name: 't', input_schema: {} }] }));
  const ctx = contextWithBody(body);
  const reads: JsonReads = { members: { model: { text: true }, max_tokens: {}, tools: { items: {} } } };
  t.strictSame(ctx.jsonPick(reads), { model: 'claude-x', max_tokens: 5, tools: [{}] }, 'only what it reads');
  t.equal(shapeText((ctx.jsonShape() as { messages: Array<{ content: string }> }).messages[0].content), content, 'the shape is still whole');
  t.equal(ctx.jsonPick(reads), ctx.jsonShape(), 'once the shape is built it answers every pick');
  ctx.replaceBody(Buffer.from(JSON.stringify({ model: 'other', max_tokens: 9, pad: 'p'.repeat(4000) })));
  t.strictSame(ctx.jsonPick(reads), { model: 'other', max_tokens: 9 }, 'a replaced body is read again');

  const small = contextWithBody(Buffer.from('{"model":"m","x":[1,2]}'));
  t.equal(small.jsonPick(reads), small.jsonShape(), 'a small body is parsed whole');

  for (const bad of [`{"model":"m","pad":"${'p'.repeat(4000)}",}`, `{"model":"m","pad":"${'p'.repeat(4000)}\u0001"}`, `${' '.repeat(4000)}`]) {
    const message = (f: () => unknown): string => {
      try {
        f();
        return 'no error';
      } catch (err) {
        return (err as Error).message;
      }
    };
    t.equal(message(() => contextWithBody(Buffer.from(bad)).jsonPick(reads)), message(() => contextWithBody(Buffer.from(bad)).jsonShape()), `the shape's refusal: ${message(() => contextWithBody(Buffer.from(bad)).jsonShape())}`);
  }
  const notUtf8 = contextWithBody(Buffer.concat([Buffer.from(`{"model":"m","pad":"${'p'.repeat(4000)}`), Buffer.from([0xff]), Buffer.from('"}')]));
  t.throws(() => notUtf8.jsonPick(reads), /not valid UTF-8/, 'invalid UTF-8 refused');
});
