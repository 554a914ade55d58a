/**
 * JsonEnds keeps a large document's opening and closing top-level members and drops the
 * ones between: what it gives back is the document without those members, whatever the
 * strings hold (quotes, backslashes, brackets, commas, text outside ASCII) and wherever
 * the chunks split it; it never holds much more than its two limits.
 */
import t from 'tap';
import { JsonEnds } from '../../core/stream/json-ends.js';
import { random, randomText, randomValue } from '../helpers/random-json.js';

/** Feed `bytes` in chunks cut at random offsets (one byte to `max`). */
function fed(bytes: Buffer, ends: JsonEnds, next: () => number, max: number, held: number[] = []): JsonEnds {
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(next() * max);
    ends.push(bytes.subarray(at, at + size));
    held.push(ends.held);
    at += size;
  }
  return ends;
}

/**
 * What must be kept of `members` (each a serialized member, `"k":v` or an element) joined
 * compactly: those that end with a comma within the head, and the longest run of whole
 * members at the end (after the head's) that fits the tail with the closing bracket.
 */
function expectedKept(members: string[], open: string, close: string, headLimit: number, tailLimit: number): string {
  let at = 1;
  let head = 0;
  for (let i = 0; i < members.length - 1; i++) {
    at += Buffer.byteLength(members[i]); // the comma after member i is at `at`
    if (at < headLimit) head = i + 1;
    at += 1;
  }
  let tail = members.length;
  let size = 1; // the bracket
  for (let i = members.length - 1; i >= head; i--) {
    const more = Buffer.byteLength(members[i]) + (i < members.length - 1 ? 1 : 0);
    if (size + more > tailLimit) break;
    size += more;
    tail = i;
  }
  return open + [...members.slice(0, head), ...members.slice(tail)].join(',') + close;
}

t.test('a compact object or array keeps its head and tail members, however chunked', async (t) => {
  const next = random(7);
  for (let n = 0; n < 400; n++) {
    const isArray = next() < 0.3;
    const count = Math.floor(next() * 12);
    const members = Array.from({ length: count }, (_, i) => {
      const value = JSON.stringify(randomValue(next, 0));
      return isArray ? value : `${JSON.stringify(`${randomText(next, Math.floor(next() * 4))}${i}`)}:${value}`;
    });
    const text = (isArray ? '[' : '{') + members.join(',') + (isArray ? ']' : '}');
    const headLimit = 1 + Math.floor(next() * 120);
    const tailLimit = 1 + Math.floor(next() * 160);
    const held: number[] = [];
    const ends = fed(Buffer.from(text), new JsonEnds(headLimit, tailLimit), next, 1 + Math.floor(next() * 40), held);
    const kept = ends.document();
    const expected = expectedKept(members, isArray ? '[' : '{', isArray ? ']' : '}', headLimit, tailLimit);
    if (kept?.toString() !== expected) {
      t.equal(kept?.toString(), expected, `case ${n}: ${text} (head ${headLimit}, tail ${tailLimit})`);
      return;
    }
    t.ok(Math.max(...held) <= headLimit + tailLimit, `case ${n}: held at most both limits`);
  }
  t.pass('400 documents');
});

t.test('pretty-printed documents keep whole members and parse', async (t) => {
  const next = random(11);
  for (let n = 0; n < 200; n++) {
    const doc = Object.fromEntries(Array.from({ length: 1 + Math.floor(next() * 8) }, (_, i) => [`k${i}`, randomValue(next, 0)]));
    const text = `\n ${JSON.stringify(doc, null, 2)}\n`;
    // The limits leave room for the whitespace around the brackets.
    const kept = fed(Buffer.from(text), new JsonEnds(8 + Math.floor(next() * 100), 8 + Math.floor(next() * 200)), next, 30).document();
    const parsed = JSON.parse(kept!.toString()) as Record<string, unknown>;
    for (const [k, v] of Object.entries(parsed)) t.same(v, doc[k], `case ${n}: ${k} kept whole`);
  }
});

t.test('a large answer keeps its usage and model, not its bulk', async (t) => {
  const text = 'a "quoted" word, {braces} [brackets] \\ and \u00e9 '.repeat(40_000);
  const answer = { id: 'msg_1', type: 'message', model: 'claude-x', content: [{ type: 'text', text }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 5 } };
  const bytes = Buffer.from(JSON.stringify(answer));
  const held: number[] = [];
  const ends = fed(bytes, new JsonEnds(1024, 4096), random(3), 70_000, held);
  t.same(JSON.parse(ends.document()!.toString()), { id: 'msg_1', type: 'message', model: 'claude-x', stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 5 } });
  t.ok(Math.max(...held) <= 1024 + 4096, `held at most ${Math.max(...held)} bytes of ${bytes.length}`);
  // With the default limits too, and the whole body in one chunk.
  const one = new JsonEnds();
  one.push(bytes);
  t.match(JSON.parse(one.document()!.toString()), { model: 'claude-x', usage: { output_tokens: 5 } });
});

t.test('a member longer than the tail is dropped whole; a last one leaves the bracket', async (t) => {
  const keep = (text: string, head: number, tail: number) => fed(Buffer.from(text), new JsonEnds(head, tail), random(5), 3).document()?.toString();
  t.equal(keep('{"a":1,"big":"xxxxxxxxxxxxxxxxxxxxxxxxxxxx","u":{"n":2},"m":"x"}', 4, 20), '{"u":{"n":2},"m":"x"}');
  t.equal(keep('{"a":1,"b":2,"big":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}', 10, 10), '{"a":1}');
  t.equal(keep('[1,2,[3,4,5,6,7,8,9,10,11,12,13,14,15,16],{"u":1}]', 4, 12), '[1,{"u":1}]');
  t.equal(keep('{}', 1, 1), '{}');
  t.equal(keep('  [ ]  ', 4, 4), '  [ ]  ');
});

t.test('no document from bytes that are not one whole object or array', async (t) => {
  for (const text of ['"a string"', '42', '{"a":1', '{"a":"open}', '{"a":1}}', '{"a":1} x', '{"a":1}{"b":2}', '', '   ']) {
    t.equal(fed(Buffer.from(text), new JsonEnds(4, 8), random(9), 2).document(), undefined, JSON.stringify(text));
  }
});
