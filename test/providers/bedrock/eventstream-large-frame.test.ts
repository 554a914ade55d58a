/**
 * The event-stream reader beside a Bedrock stream: a frame longer than the chunks it comes
 * in is gathered and joined once. Before, the frame's start was joined with every new chunk,
 * so a 15 MiB frame (a generated image's bytes, say) in 16 KiB socket reads cost ~1,000
 * copies of a growing buffer: seconds of CPU on the event loop every other request waits on.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import t from 'tap';
import { EventStreamReader, type EventFrame } from '../../../providers/bedrock/eventstream.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const frame = (type: string, body: Uint8Array): Buffer =>
  Buffer.from(codec.encode({ headers: { ':message-type': { type: 'string', value: 'event' }, ':event-type': { type: 'string', value: type } }, body }));

function read(chunks: Buffer[]): { frames: EventFrame[]; reader: EventStreamReader } {
  const frames: EventFrame[] = [];
  const reader = new EventStreamReader((f) => frames.push(f));
  for (const c of chunks) reader.push(c);
  return { frames, reader };
}

t.test('a 15 MiB frame in 16 KiB chunks is read in linear time, whole', async (t) => {
  const payload = Buffer.alloc(15 * 1024 * 1024, 0x41);
  const bytes = Buffer.concat([frame('chunk', payload), frame('tail', fromUtf8('{"ok":true}'))]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 16 * 1024) chunks.push(bytes.subarray(i, i + 16 * 1024));
  const started = performance.now();
  const { frames, reader } = read(chunks);
  const ms = performance.now() - started;
  t.equal(reader.broken, undefined);
  t.equal(reader.truncated, false);
  t.same(frames.map((f) => f.type), ['chunk', 'tail']);
  t.ok(Buffer.from(frames[0].body).equals(payload), 'the payload as sent');
  // Linear: ~0.1 s here (the CRC over 15 MiB); the quadratic join took 5 s and more.
  t.ok(ms < 1500, `read in ${ms.toFixed(0)} ms`);
});

t.test('frames split at every byte offset, in pieces of 1 to 5 bytes included, read as when whole', async (t) => {
  const bytes = Buffer.concat([frame('a', fromUtf8('{"x":"é😀"}')), frame('empty', new Uint8Array(0)), frame('b', fromUtf8('{"y":2}'))]);
  const whole = read([bytes]).frames.map((f) => [f.type, Buffer.from(f.body).toString('utf8')]);
  t.same(whole.map((f) => f[0]), ['a', 'empty', 'b']);
  let mismatches = 0;
  for (let cut = 0; cut <= bytes.length; cut++) {
    for (const width of [1, 2, 3, 5]) {
      const end = Math.min(bytes.length, cut + width);
      const { frames, reader } = read([bytes.subarray(0, cut), bytes.subarray(cut, end), bytes.subarray(end)]);
      const got = frames.map((f) => [f.type, Buffer.from(f.body).toString('utf8')]);
      if (reader.broken || reader.truncated || JSON.stringify(got) !== JSON.stringify(whole)) mismatches++;
    }
  }
  t.equal(mismatches, 0);
  // Byte by byte too, and a stream cut inside the prelude stays truncated.
  t.same(read([...bytes].map((b) => Buffer.from([b]))).frames.length, 3);
  t.equal(read([bytes.subarray(0, bytes.length + 2 - frame('b', fromUtf8('{"y":2}')).length)]).reader.truncated, true);
});

t.test('a length out of range in a prelude split across chunks still breaks the stream', async (t) => {
  const { reader, frames } = read([Buffer.from([0x00, 0x00]), Buffer.from([0x00, 0x03]), Buffer.alloc(20)]);
  t.match(reader.broken, /frame length 3 is out of range/);
  t.same(frames, []);
});
