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

/** The events a decoder with `skip` delivers, less the skippable names (it may deliver some). */
function decodeSkipping(chunks: readonly Buffer[], skip: readonly string[]): { kept: Array<[string, string]>; skippedDelivered: number } {
  const kept: Array<[string, string]> = [];
  let skippedDelivered = 0;
  const d = new SseDecoder(
    (event, data) => {
      if (skip.includes(event)) skippedDelivered++;
      else kept.push([event, data]);
    },
    { skip },
  );
  for (const c of chunks) d.push(c);
  d.end();
  return { kept, skippedDelivered };
}

const SKIP = ['content_block_delta', 'ping'];
const mixed = [
  'event: message_start\ndata: {"usage":{"input_tokens":3}}\n\n',
  'event: content_block_delta\ndata: {"text":"héllo ✓ 😀"}\n\n',
  'event: ping\ndata: {}\n\n',
  'event: content_block_delta\nevent: message_delta\ndata: {"renamed":true}\n\n', // the last event line names it
  'event: content_block_delta\ndata: a\ndata: b\n\n',
  'event: ping\n\n',
  'event: pingpong\ndata: not ping\n\n', // a longer name that starts like a skipped one
  'event: content_block_delta\r\ndata: crlf\r\n\r\n',
  'event: ping\ndata: x\r\revent: message_delta\ndata: {"after-cr":1}\n\n', // CR CR ended the ping: a second event follows
  'event: message_delta\ndata: {"usage":{"output_tokens":9}}\n\n',
  'data: unnamed\n\n',
  'event: message_stop\ndata: {}\n\n',
];

t.test('skip: every other event arrives exactly as without it, however the bytes are split', async (t) => {
  const bytes = Buffer.from(mixed.join(''));
  const expected = decode([bytes]).filter(([name]) => !SKIP.includes(name));
  t.same(expected.map(([name]) => name), ['message_start', 'message_delta', 'pingpong', 'message_delta', 'message_delta', 'message', 'message_stop']);
  t.same(decodeSkipping([bytes], SKIP).kept, expected, 'one chunk');
  t.same(decodeSkipping(mixed.map((e) => Buffer.from(e)), SKIP).kept, expected, 'one event per chunk');
  t.same(decodeSkipping([...bytes].map((b) => Buffer.from([b])), SKIP).kept, expected, 'one byte per chunk');
  for (let seed = 1; seed <= 300; seed++) {
    const got = decodeSkipping(split(bytes, seed), SKIP).kept;
    if (JSON.stringify(got) !== JSON.stringify(expected)) t.fail(`seed ${seed} differs`, { got, expected });
  }
  // A chunk may end mid-UTF-8 sequence, and the next start with skippable-looking bytes.
  const emoji = Buffer.from('event: message_start\ndata: 😀\n\n');
  const cut = emoji.length - 4; // inside the emoji's four bytes
  const tricky = [emoji.subarray(0, cut), Buffer.concat([emoji.subarray(cut), Buffer.from('event: ping\ndata: x\n\n')])];
  t.same(decodeSkipping(tricky, SKIP).kept, [['message_start', '😀']]);
});

t.test('skip: a token delta that arrives as its own chunk is passed over unread', async (t) => {
  const frames = [
    'event: message_start\ndata: {}\n\n',
    ...Array.from({ length: 50 }, (_, i) => `event: content_block_delta\ndata: {"text":"tok${i}"}\n\n`),
    'event: ping\ndata: {}\n\nevent: content_block_delta\ndata: {}\n\n', // two skippable events in one chunk
    'event: message_stop\ndata: {}\n\n',
  ];
  const { kept, skippedDelivered } = decodeSkipping(frames.map((f) => Buffer.from(f)), SKIP);
  t.same(kept.map(([name]) => name), ['message_start', 'message_stop']);
  t.equal(skippedDelivered, 0, 'no skippable event reached the listener');
});
