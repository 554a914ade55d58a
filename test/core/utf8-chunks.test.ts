/**
 * Utf8Chunks gives what a streaming TextDecoder gives, however the bytes are split: valid
 * text with 2-, 3- and 4-byte characters, and random bytes with invalid sequences.
 */
import t from 'tap';
import { Utf8Chunks } from '../../core/stream/utf8-chunks.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

function splitAt(bytes: Buffer, rand: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = Math.floor(rand() * 7);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

function viaTextDecoder(chunks: Buffer[]): string {
  const d = new TextDecoder('utf-8');
  return chunks.map((c) => d.decode(c, { stream: true })).join('') + d.decode();
}

function viaUtf8Chunks(chunks: Buffer[]): string {
  const d = new Utf8Chunks();
  return chunks.map((c) => d.decode(c)).join('') + d.end();
}

t.test('valid text, split every way', async (t) => {
  const bytes = Buffer.from('\ufeffa é ✓ 😀 𝄞 ü€\n'.repeat(20));
  const rand = prng(7);
  for (let i = 0; i < 500; i++) {
    const chunks = splitAt(bytes, rand);
    const got = viaUtf8Chunks(chunks);
    if (got !== viaTextDecoder(chunks)) t.fail(`split ${i} differs`);
  }
  t.equal(viaUtf8Chunks([bytes]).charCodeAt(0), 0x61, 'a leading BOM is dropped');
  t.equal(viaUtf8Chunks([bytes.subarray(0, 1), bytes.subarray(1)]).charCodeAt(0), 0x61, 'also when split');
});

t.test('random bytes, invalid sequences included, split every way', async (t) => {
  const rand = prng(11);
  const interesting = [0x41, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x0a];
  let differ = 0;
  for (let i = 0; i < 3000; i++) {
    const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 24) }, () => interesting[Math.floor(rand() * interesting.length)]));
    const chunks = splitAt(bytes, rand);
    if (viaUtf8Chunks(chunks) !== viaTextDecoder(chunks)) {
      differ++;
      if (differ < 4) t.fail(`bytes ${bytes.toString('hex')} split ${chunks.map((c) => c.toString('hex')).join('|')}`, { got: viaUtf8Chunks(chunks), want: viaTextDecoder(chunks) });
    }
  }
  t.equal(differ, 0);
});

t.test('a Uint8Array that is not a Buffer, and chunks the caller reuses', async (t) => {
  const d = new Utf8Chunks();
  const reused = new Uint8Array(4);
  const emoji = Buffer.from('😀');
  reused.set(emoji.subarray(0, 2));
  let out = d.decode(reused.subarray(0, 2));
  reused.fill(0);
  reused.set(emoji.subarray(2, 4));
  out += d.decode(reused.subarray(0, 2));
  t.equal(out, '😀');
});
