import t from 'tap';
import { isoTime } from '../../core/iso-time.js';

const same = (ms: number): boolean => isoTime(ms) === new Date(ms).toISOString();

t.test('writes what Date#toISOString writes', async (t) => {
  const now = Date.UTC(2026, 11, 4, 9, 30, 0, 0);
  const edges = [0, -0, 1, 9, 10, 99, 100, 999, 1000, -1, -999, -1000, -1001, now, now + 7, now + 999, now + 1000, now - 1, 8.64e15, -8.64e15, 253402300799999, 253402300800000, -62167219200000, -62167219200001, 1.7, -1.7, now + 0.9];
  for (const ms of edges) t.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
  // Times rising, falling and jumping across seconds, minutes, days and years.
  let seed = 12345;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let mismatches = 0;
  let ms = now;
  for (let i = 0; i < 20_000; i++) {
    ms += Math.floor((random() - 0.3) * [3, 1500, 90_000, 40e9][i % 4]);
    if (!same(ms)) mismatches++;
  }
  t.equal(mismatches, 0, 'no mismatch over 20,000 times');
});

t.test('a second made once serves the milliseconds after it, and earlier ones after a later second', async (t) => {
  const base = Date.UTC(2030, 0, 1, 0, 0, 59, 0);
  t.equal(isoTime(base + 5), '2030-01-01T00:00:59.005Z');
  t.equal(isoTime(base + 50), '2030-01-01T00:00:59.050Z');
  t.equal(isoTime(base + 1000), '2030-01-01T00:01:00.000Z');
  t.equal(isoTime(base + 999), '2030-01-01T00:00:59.999Z');
});

t.test('an invalid time throws as Date#toISOString does', async (t) => {
  for (const ms of [NaN, Infinity, -Infinity, 8.64e15 + 1, -8.64e15 - 1]) t.throws(() => isoTime(ms), RangeError, String(ms));
});
