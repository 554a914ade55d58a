/**
 * The rate-limit header numbers dialects write: limitText (remembered per value) and
 * remainingText (made in two halves past 2^30) give exactly String()'s text.
 */
import t from 'tap';
import { limitText, remainingText } from '../../core/dialect.js';

t.test('remainingText and limitText write what String() writes', async (t) => {
  const values = [0, -0, 1, 9, 10, 999_999_999, 1e9, 1e9 + 1, 2 ** 30 - 1, 2 ** 30, 2 ** 30 + 1, 1_000_000_007, 99_999_999_487, 100_000_000_000, 10 ** 15, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, -5, -(2 ** 31), 1.5, NaN, Infinity];
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 48271) % 2147483647;
    values.push(Math.floor((seed / 2147483647) * 10 ** (1 + (i % 16))));
  }
  const wrong = values.filter((v) => remainingText(v) !== String(v) || limitText(v) !== String(v));
  t.same(wrong, [], 'no value written differently');
});
