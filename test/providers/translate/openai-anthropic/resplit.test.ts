/**
 * Every recorded upstream stream, cut at random byte offsets (a fixed-seed PRNG, so a
 * failure replays), must translate to exactly the bytes of the one-piece run: framing
 * is the decoder's job and must never leak into the translation.
 */
import t from 'tap';
import { AnthropicToOpenAIStream, type StreamTranslationOptions } from '../../../../providers/translate/openai-anthropic/index.js';
import { cases, readBytes, readJson } from '../../../helpers/translate-golden.js';
import { mulberry32 } from '../../../helpers/prng.js';

const SPLITS_PER_FIXTURE = 200;

function translate(options: StreamTranslationOptions, pieces: Uint8Array[]): { bytes: Buffer; usage: string; error: string | undefined } {
  const tr = new AnthropicToOpenAIStream(options);
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

const isContinuation = (byte: number): boolean => (byte & 0xc0) === 0x80;

t.test('random re-splits give the one-piece output', async (t) => {
  const random = mulberry32(0x5eed_2025);
  let insideUtf8 = 0;
  const dirs = cases('stream-');
  t.ok(dirs.length >= 5);
  for (const dir of dirs) {
    const options = readJson<StreamTranslationOptions>(dir, 'input.json');
    const upstream = readBytes(dir, 'upstream.sse');
    const whole = translate(options, [upstream]);
    let same = 0;
    for (let i = 0; i < SPLITS_PER_FIXTURE; i++) {
      // From one cut to dozens: both coarse network reads and near byte-by-byte trickles.
      const count = 1 + Math.floor(random() * (i % 4 === 0 ? 64 : 8));
      const offsets = Array.from({ length: count }, () => 1 + Math.floor(random() * (upstream.length - 1)));
      insideUtf8 += offsets.filter((o) => isContinuation(upstream[o])).length;
      const run = translate(options, cut(upstream, offsets));
      if (run.bytes.equals(whole.bytes) && run.usage === whole.usage && run.error === whole.error) same++;
      else t.fail(`${dir}: split at ${offsets.join(',')} changed the output`);
    }
    t.equal(same, SPLITS_PER_FIXTURE, `${dir}: ${SPLITS_PER_FIXTURE} random splits`);
  }
  t.ok(insideUtf8 > 50, `cuts landed inside multi-byte UTF-8 characters (${insideUtf8})`);
});

t.test('byte-by-byte feeding gives the one-piece output', async (t) => {
  for (const dir of cases('stream-')) {
    const options = readJson<StreamTranslationOptions>(dir, 'input.json');
    const upstream = readBytes(dir, 'upstream.sse');
    const bytes = Array.from(upstream, (_, i) => upstream.subarray(i, i + 1));
    t.ok(translate(options, bytes).bytes.equals(translate(options, [upstream]).bytes), dir);
  }
});
