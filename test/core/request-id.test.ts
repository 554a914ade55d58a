/**
 * Fresh request ids are random version-4 UUIDs, as crypto.randomUUID would give: the
 * format, the fixed bits, no repeats across many refills of the random batch, and every
 * hex digit reachable in every free position.
 */
import t from 'tap';
import { newHexId, newRequestId } from '../../core/request-id.js';

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

t.test('hex ids (completion ids) are 32 random hex digits, distinct from each other and from request ids', async (t) => {
  const seen = new Set<string>();
  const digits = Array.from({ length: 32 }, () => new Set<string>());
  let malformed = 0;
  for (let i = 0; i < 50_000; i++) {
    // Interleaved with request ids: the two draw from one random batch and must never share bytes.
    const hex = newHexId();
    const uuid = newRequestId().replace(/-/g, '');
    if (!/^[0-9a-f]{32}$/.test(hex)) malformed++;
    seen.add(hex);
    seen.add(uuid);
    for (let c = 0; c < 32; c++) digits[c].add(hex[c]);
  }
  t.equal(malformed, 0, 'every hex id is 32 lower-case hex digits');
  t.equal(seen.size, 100_000, 'no hex id repeats or equals a request id drawn beside it');
  t.ok(digits.every((d) => d.size === 16), 'each position takes all sixteen digits');
});
