/**
 * utf8Bytes gives Buffer.from's bytes for every kind of text: ASCII (copied byte for
 * byte), Latin-1 and wider characters, pairs and lone surrogate halves, small and large.
 */
import t from 'tap';
import { utf8Bytes } from '../../core/utf8-bytes.js';

t.test('the same bytes as Buffer.from, ASCII or not, small or large', async (t) => {
  const pieces = ['plain ascii', 'é', 'ÿ', '\u0080', '✓', '😀', '\ud800', '\udfff', '\u0000', '\n', '"\\'];
  let differ = 0;
  for (let i = 0; i < 400; i++) {
    let text = '';
    const n = i % 3 === 0 ? 20_000 : 40;
    for (let k = 0; k < n; k++) text += pieces[(i * 7 + k * (i % 5 === 0 ? 0 : 3)) % pieces.length];
    if (!utf8Bytes(text).equals(Buffer.from(text))) differ++;
  }
  t.equal(differ, 0);
  t.same([...utf8Bytes('héllo')], [...Buffer.from('héllo')], 'a Latin-1 character is two bytes, not one');
  t.equal(utf8Bytes('').length, 0);
});
