/**
 * The SSE decoder gives the same events however the bytes are split, for every line-break
 * style (LF, CRLF, CR, mixed), including a CRLF cut between two chunks — the LF-only fast
 * path and the general path must agree.
 */
import t from 'tap';
import { SseDecoder } from '../../core/stream/sse.js';

function decode(chunks: readonly Buffer[]): Array<[string, string]> {
  const events: Array<[string, string]> = [];
  const d = new SseDecoder((event, data) => events.push([event, data]));
  for (const c of chunks) d.push(c);
  d.end();
  return events;
}

/** Deterministic splits: a small LCG so a failure names its seed. */
function split(bytes: Buffer, seed: number): Buffer[] {
  let x = seed;
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (x % 23);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

const events = [
  'event: message_start\ndata: {"type":"message_start","text":"héllo ✓"}\n\n',
  ': a comment\n\n',
  'event: content_block_delta\ndata: {"a":1}\ndata: {"b":2}\n\n',
  'data: no event name\n\n',
  'event: ping\ndata:\n\n',
];

for (const [style, lineBreak] of [['LF', '\n'], ['CRLF', '\r\n'], ['CR', '\r']] as const) {
  t.test(`${style} line breaks, split 200 ways`, async (t) => {
    const text = events.join('').replace(/\n/g, lineBreak);
    const whole = decode([Buffer.from(text)]);
    t.equal(whole.length, 4, 'four events (the comment is not one)');
    t.same(whole[1], ['content_block_delta', '{"a":1}\n{"b":2}'], 'data lines joined');
    for (let seed = 1; seed <= 200; seed++) {
      const got = decode(split(Buffer.from(text), seed));
      if (JSON.stringify(got) !== JSON.stringify(whole)) t.fail(`seed ${seed} differs`, { got, whole });
    }
    t.pass('every split agrees');
  });
}

t.test('mixed breaks, and a CRLF cut between chunks before an LF-only chunk', async (t) => {
  const text = 'event: a\r\ndata: 1\r\n\r\nevent: b\ndata: 2\n\nevent: c\rdata: 3\r\r';
  const whole = decode([Buffer.from(text)]);
  t.same(whole, [['a', '1'], ['b', '2'], ['c', '3']]);
  t.same(decode([Buffer.from('event: a\r'), Buffer.from('\ndata: 1\n\n')]), [['a', '1']], 'the LF after a chunk-ending CR is not a second line');
  t.same(decode([Buffer.from('data: 1\r'), Buffer.from('\n'), Buffer.from('\n')]), [['message', '1']]);
  for (let seed = 1; seed <= 200; seed++) {
    const got = decode(split(Buffer.from(text), seed));
    if (JSON.stringify(got) !== JSON.stringify(whole)) t.fail(`seed ${seed} differs`, { got, whole });
  }
});

t.test('a truncated last event is still delivered at the end', async (t) => {
  t.same(decode([Buffer.from('event: x\ndata: tail')]), [['x', 'tail']]);
});

t.test('whole events read at once equal the same bytes fed one at a time (the general path)', async (t) => {
  const shapes = [
    'event: message_start\ndata: {"a":1}\n\n',
    'data: only data\n\n',
    'event: x\n\n',
    'event: \ndata: empty name\n\n',
    'event:  leading space\ndata: y\n\n',
    'event: multi\ndata: a\ndata: b\n\n',
    'data:no-space\n\n',
    'id: 7\ndata: with id\n\n',
    ': comment\n\n',
    'event: e\ndata: \n\n',
    'event: colon:in:name\ndata: z\n\n',
  ];
  const text = shapes.join('') + 'event: tail\ndata: cut';
  const bytes = Buffer.from(text);
  const oneByOne = decode([...bytes].map((b) => Buffer.from([b])));
  t.same(decode([bytes]), oneByOne);
  t.same(oneByOne.slice(0, 4), [['message_start', '{"a":1}'], ['message', 'only data'], ['x', ''], ['message', 'empty name']]);
  t.same(oneByOne.slice(4, 7), [[' leading space', 'y'], ['multi', 'a\nb'], ['message', 'no-space']]);
  t.same(oneByOne.at(-1), ['tail', 'cut']);
});
