/**
 * Fresh request ids are random version-4 UUIDs, as crypto.randomUUID would give: the
 * format, the fixed bits, no repeats across many refills of the random batch, and every
 * hex digit reachable in every free position.
 */
import t from 'tap';
import { newRequestId } from '../../core/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

t.test('ids are distinct version-4 UUIDs with every digit in play', async (t) => {
  const seen = new Set<string>();
  const digits = Array.from({ length: 36 }, () => new Set<string>());
  let malformed = 0;
  for (let i = 0; i < 50_000; i++) {
    const id = newRequestId();
    if (!UUID_V4.test(id)) malformed++;
    seen.add(id);
    for (let c = 0; c < 36; c++) digits[c].add(id[c]);
  }
  t.equal(malformed, 0, 'every id is a version-4 UUID');
  t.equal(seen.size, 50_000, 'no id repeats (390 refills of the random batch)');
  const free = [...Array(36).keys()].filter((c) => ![8, 13, 14, 18, 19, 23].includes(c));
  t.ok(free.every((c) => digits[c].size === 16), 'each free position takes all sixteen digits');
  t.same([...digits[14]], ['4'], 'the version digit');
  t.same([...digits[19]].sort(), ['8', '9', 'a', 'b'], 'the variant digit');
});
