/**
 * readScratch: a file's bytes, as readFileSync gives them, read into one buffer that the
 * next read reuses (start-up touches less fresh memory), grown when a file needs more.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readScratch } from '../../core/deps/scratch-read.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('gw-scratch-');
const file = (name: string, bytes: Buffer): string => {
  const f = path.join(dir, name);
  writeFileSync(f, bytes);
  return f;
};
const bytesOf = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

t.test('the bytes readFileSync gives, for empty, small and large files', async (t) => {
  for (const [name, size] of [['empty', 0], ['small', 100], ['exact', 256 * 1024], ['large', 700_001]] as const) {
    const f = file(name, bytesOf(size, size));
    t.same(readScratch(f), readFileSync(f), name);
  }
});

t.test('one buffer, reused while files fit and grown when one does not', async (t) => {
  const a = readScratch(file('a', bytesOf(1000, 1)))!;
  const b = readScratch(file('b', bytesOf(2000, 2)))!;
  t.equal(b.buffer, a.buffer, 'the second read reused the first one\'s memory');
  t.same(b, bytesOf(2000, 2));
  const big = readScratch(file('big', bytesOf(1_500_000, 3)))!;
  t.same(big, bytesOf(1_500_000, 3), 'grown to fit');
  const after = readScratch(file('c', bytesOf(10, 4)))!;
  t.equal(after.buffer, big.buffer, 'and the grown one kept');
});

t.test('a missing file throws as readFileSync does, or is undefined when asked', async (t) => {
  const missing = path.join(dir, 'missing');
  t.throws(() => readScratch(missing), { code: 'ENOENT' });
  t.equal(readScratch(missing, 'ifThere'), undefined);
  t.throws(() => readScratch(dir, 'ifThere'), { code: 'EISDIR' }, 'other errors still throw');
});
