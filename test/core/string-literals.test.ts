/**
 * Serialising a body built from a scanned request with the request's long strings copied
 * from their literals (`json-scan/string-literals.ts`): the same JSON `JSON.stringify`
 * writes, for every body; the value left as it was; and the copy really taken (literals
 * keep the client's own escapes, such as `\/`, which `JSON.stringify` would not write).
 */
import t from 'tap';
import { BYTE_STRINGS, byteStringsWith, readShape, type ExactTree } from '../../core/json-body.js';
import { serializeWithLiterals, type StringLiterals } from '../../core/json-scan/string-literals.js';
import { contextWithBody } from '../helpers/context.js';
import { random, randomScannable, textFrom } from '../helpers/random-json.js';

/** The shape and literals core reads from `bytes` (json-body's readShape, as a request's context does). */
function scanned(bytes: Buffer): { shape: unknown; literals: StringLiterals | undefined } {
  const exact: ExactTree = { json: () => JSON.parse(bytes.toString('utf8')), keepParsed: (tree) => tree };
  const read = readShape(bytes, exact);
  return { shape: read.shape, literals: read.literals };
}

/** What the plain way sends: the value's strings are bytes, one character each. */
const plain = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'latin1');
/** The text a body's bytes stand for. */
const meaning = (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8'));

const long = (s: string, n = 900): string => s.repeat(Math.ceil(n / s.length));

/** Strings of `value` (keys too), walked as JSON.stringify walks it. */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      stringsOf(v, out);
    }
  }
  return out;
}

t.test('a translated body: the same JSON, the client\'s literals copied, the value left as it was', async (t) => {
  const prompt = long('see docs\\/retries.md \\u0041 “café” → \\n\\t\\"quoted\\" 😀 ');
  const text = `{"model":"claude-x","messages":[{"role":"system","content":"${long('be brief. ')}"},{"role":"user","content":"${prompt}"}],"pad":"${long('p', 9000)}"}`;
  const { shape, literals } = scanned(Buffer.from(text));
  t.ok(literals, 'the scanner took the long strings');
  const request = shape as { messages: Array<{ content: string }> };
  const [system, user] = request.messages.map((m) => m.content);
  const translated = { model: 'claude-x', system, messages: [{ role: 'user', content: [{ type: 'text', text: user }, { type: 'text', text: user }] }], max_tokens: 1024 };
  const before = structuredClone(translated);
  const sent = serializeWithLiterals(translated, literals as StringLiterals);
  t.same(meaning(sent), meaning(plain(translated)), 'the same JSON as JSON.stringify writes');
  t.ok(sent.includes('docs\\/retries.md \\u0041'), "the prompt's bytes as the client wrote them");
  const escapes = (s: string): number => s.match(/\\u0041/g)?.length ?? 0;
  t.equal(escapes(sent.toString('utf8')), 2 * escapes(prompt), 'a string used twice is copied twice');
  t.strictSame(translated, before, 'the value is as it was');
  t.equal(translated.messages[0].content[0].text, user, 'the very string back in its place');
});

t.test('what has no literal, or could be mistaken for a placeholder, goes the plain way', async (t) => {
  const { shape, literals } = scanned(Buffer.from(`{"a":"${long('x\\/y')}","pad":"${long('p', 9000)}"}`));
  const { a } = shape as { a: string };
  const own = long('made here, no literal ');
  const body = { own, a };
  t.ok(serializeWithLiterals(body, literals as StringLiterals).includes('x\\/y'), 'a found string is copied');
  t.same(meaning(serializeWithLiterals(body, literals as StringLiterals)), body, 'a string made after the scan is written by JSON.stringify');
  // A string that JSON.stringify writes as a placeholder is written, breaks no rule of the
  // strings this serialises (they are bytes, below U+0100), and is caught: plain way.
  for (const fake of ['\ude000', '\ude001', '\ude00x', '\ude00']) {
    const tricked = { fake, a };
    const sent = serializeWithLiterals(tricked, literals as StringLiterals);
    t.ok(sent.equals(plain(tricked)), `${JSON.stringify(fake)}: exactly JSON.stringify's bytes`);
    t.equal(tricked.a, a, 'and the value put back');
  }
  // Strings of one length, each found as itself, in whatever order the body holds them.
  const twins = scanned(Buffer.from(`{"a":"${long('A\\/')}","b":"${long('B\\/')}","c":"${long('C\\/')}","pad":"${long('p', 9000)}"}`));
  const abc = twins.shape as { a: string; b: string; c: string };
  const swapped = { c: abc.c, a: abc.a, b: abc.b, again: abc.c, copy: `${abc.b}` };
  const sentTwins = serializeWithLiterals(swapped, twins.literals as StringLiterals);
  t.same(meaning(sentTwins), swapped, 'each string its own literal');
  t.equal(sentTwins.toString('latin1').match(/\\\//g)?.length, 5 * (abc.a.match(/\//g)?.length ?? 0), 'an equal string made elsewhere is copied too');
  const throwing = { a, big: 1n };
  t.throws(() => serializeWithLiterals(throwing, literals as StringLiterals), TypeError, "JSON.stringify's own error");
  t.equal(throwing.a, a, 'the value put back when JSON.stringify throws');
});

t.test("a request's context hands translators strings that serialise with its literals", async (t) => {
  const body = Buffer.from(`{"model":"m","messages":[{"role":"user","content":"${long('a\\/b é ')}"}],"pad":"${long('p', 9000)}"}`);
  const { value, strings } = contextWithBody(body).rewritableBody();
  t.equal(strings.form, 'bytes');
  t.not(strings, BYTE_STRINGS, 'a copy that knows the literals');
  const sent = strings.serialize({ messages: (value as { messages: unknown }).messages });
  t.ok(sent.includes('a\\/b é'), 'the literal copied, UTF-8 as it came');
  t.same(meaning(sent), { messages: (meaning(body) as { messages: unknown }).messages }, 'the same JSON');
  // Once core lets the parsed body go, a serialiser kept past that no longer holds the body.
  const ctx = contextWithBody(body);
  const kept = ctx.rewritableBody();
  const messages = (kept.value as { messages: unknown }).messages;
  ctx.releaseParsed();
  const after = kept.strings.serialize({ messages });
  t.ok(after.equals(Buffer.from(JSON.stringify({ messages }), 'latin1')), 'after releaseParsed: the plain way, exactly');
  t.ok(ctx.rewritableBody().strings.serialize({ messages }).includes('a\\/b é'), 'a new reading has its own literals');
  const short = contextWithBody(Buffer.from('{"model":"m","messages":[{"role":"user","content":"a\\/b"}]}')).rewritableBody();
  t.equal(short.strings, BYTE_STRINGS, 'a body too short for the scanner: the shared strings');
  t.equal(byteStringsWith(undefined), BYTE_STRINGS);
});

/** A random request text: long and short strings, escapes as clients write them (`\/`, `\u0041`), bytes outside ASCII. */
function randomRequest(next: () => number): string {
  const str = textFrom(next, ['a', 'Z', ' ', '"', '\\', '\n', '\t', '\u0001', '\u007f', 'é', '→', '😀', '/', '\u00a0', '0']);
  const json = JSON.stringify({ pad: str(8200), v: randomScannable(next, str), w: randomScannable(next, str) });
  // Escapes JSON.stringify would not write: a solidus escaped, ASCII as \u.
  if (next() < 0.4) return json;
  const escape = (c: string): string => (next() < 0.3 ? (c === '/' ? '\\/' : `\\u00${c.charCodeAt(0).toString(16)}`) : c);
  return json.replace(/"(?:[^"\\]|\\.)*"/g, (literal) => literal.replace(/[aZ/]/g, escape));
}

/** A body built from `shape` as a translation builds one: its values rearranged, some repeated, ASCII added, containers shared. */
function rebuilt(shape: unknown, next: () => number): Record<string, unknown> {
  const strings = stringsOf(shape);
  const picked = strings.filter(() => next() < 0.5).sort(() => next() - 0.5);
  return { model: 'm', picked, again: picked.slice(0, 2), shared: shape, added: long('ascii added ', next() < 0.5 ? 600 : 10), n: 1 };
}

t.test('random requests and bodies built from them: always the JSON that JSON.stringify writes', async (t) => {
  let copied = 0;
  let scannedBodies = 0;
  const runs = 400;
  for (let seed = 1; seed <= runs; seed++) {
    const next = random(seed * 7919);
    const bytes = Buffer.from(randomRequest(next));
    const { shape, literals } = scanned(bytes);
    const strings = byteStringsWith(literals);
    if (literals) scannedBodies++;
    const body = rebuilt(shape, next);
    const snapshot = structuredClone(body);
    const sent = strings.serialize(body);
    const want = plain(body);
    if (!sent.equals(want)) copied++;
    if (!t.same(meaning(sent), meaning(want), `seed ${seed}: the same JSON`)) break;
    if (!t.strictSame(body, snapshot, `seed ${seed}: the value as it was`)) break;
  }
  t.ok(scannedBodies > runs / 2, `the scanner took ${scannedBodies} of ${runs}`);
  t.ok(copied > runs / 4, `literals written as the client wrote them in ${copied} of ${runs}`);
});
