/**
 * Every recorded Gemini stream, cut at random byte offsets (a fixed-seed PRNG, so a
 * failure replays) and fed byte by byte, must translate to exactly the one-piece output:
 * framing is the decoder's job and must never leak into the translation. And each
 * upstream chunk is answered as soon as its blank line arrives.
 */
import t from 'tap';
import { GeminiToOpenAIStream, type GeminiStreamOptions } from '../../../../providers/translate/openai-gemini/index.js';
import { fixtureSet } from '../../../helpers/translate-golden.js';
import { mulberry32 } from '../../../helpers/prng.js';

const fx = fixtureSet('openai-gemini');
const SPLITS_PER_FIXTURE = 200;

function translate(options: GeminiStreamOptions, pieces: Uint8Array[]): { bytes: Buffer; usage: string; error: string | undefined } {
  const tr = new GeminiToOpenAIStream(options);
  const out = pieces.map((p) => tr.write(p));
  out.push(tr.end());
  return { bytes: Buffer.concat(out), usage: JSON.stringify(tr.usage), error: tr.streamError };
}

function cut(bytes: Buffer, offsets: number[]): Uint8Array[] {
  const sorted = [...new Set(offsets)].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const at of sorted) {
    pieces.push(bytes.subarray(from, at));
    from = at;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}

t.test('random re-splits give the one-piece output', async (t) => {
  const random = mulberry32(0x6e31_2025);
  let insideUtf8 = 0;
  let insideCrlf = 0;
  const dirs = fx.cases('stream-');
  t.ok(dirs.length >= 6);
  for (const dir of dirs) {
    const options = fx.readJson<GeminiStreamOptions>(dir, 'input.json');
    const upstream = fx.readBytes(dir, 'upstream.sse');
    const whole = translate(options, [upstream]);
    let same = 0;
    for (let i = 0; i < SPLITS_PER_FIXTURE; i++) {
      const count = 1 + Math.floor(random() * (i % 4 === 0 ? 64 : 8));
      const offsets = Array.from({ length: count }, () => 1 + Math.floor(random() * (upstream.length - 1)));
      insideUtf8 += offsets.filter((o) => (upstream[o] & 0xc0) === 0x80).length;
      insideCrlf += offsets.filter((o) => upstream[o - 1] === 0x0d && upstream[o] === 0x0a).length;
      const run = translate(options, cut(upstream, offsets));
      if (run.bytes.equals(whole.bytes) && run.usage === whole.usage && run.error === whole.error) same++;
      else t.fail(`${dir}: split at ${offsets.join(',')} changed the output`);
    }
    t.equal(same, SPLITS_PER_FIXTURE, `${dir}: ${SPLITS_PER_FIXTURE} random splits`);
  }
  t.ok(insideUtf8 > 10, `cuts landed inside multi-byte UTF-8 characters (${insideUtf8})`);
  t.ok(insideCrlf > 5, `cuts landed between a CR and its LF (${insideCrlf})`);
});

t.test('byte-by-byte feeding gives the one-piece output', async (t) => {
  for (const dir of fx.cases('stream-')) {
    const options = fx.readJson<GeminiStreamOptions>(dir, 'input.json');
    const upstream = fx.readBytes(dir, 'upstream.sse');
    const bytes = Array.from(upstream, (_, i) => upstream.subarray(i, i + 1));
    t.ok(translate(options, bytes).bytes.equals(translate(options, [upstream]).bytes), dir);
  }
});

t.test('unbuffered: each chunk is answered as soon as its blank line arrives', async (t) => {
  const upstream = fx.readBytes('stream-text', 'upstream.sse').toString('utf8');
  const tr = new GeminiToOpenAIStream({ id: 'c', created: 1, model: 'gemini-2.5-flash', includeUsage: false });
  const events = upstream.split('\r\n\r\n').filter((e) => e !== '');
  t.ok(events.length >= 5);
  for (const event of events) {
    t.equal(tr.write(Buffer.from(event + '\r\n')).length, 0, 'nothing before the event is complete');
    t.match(Buffer.from(tr.write(Buffer.from('\r\n'))).toString(), /"content":"[^"]+"/, 'its text goes out at once');
  }
  t.equal(Buffer.from(tr.end()).toString(), 'data: [DONE]\n\n', 'only [DONE] waits for the upstream end');
});

t.test('after an error nothing more is emitted', async (t) => {
  const tr = new GeminiToOpenAIStream({ id: 'c', created: 1, model: 'm', includeUsage: true });
  const late = 'data: {"candidates":[{"content":{"parts":[{"text":"LATEWORD"}]},"finishReason":"STOP"}]}\r\n\r\n';
  const out = Buffer.concat([tr.write(fx.readBytes('stream-error-midway', 'upstream.sse')), tr.write(Buffer.from(late)), tr.end()]).toString();
  t.notMatch(out, /LATEWORD|\[DONE\]/);
  t.match(out, /data: \{"error":\{[^\n]*\}\}\n\n$/);
});
