/**
 * A stream's response head is flattened once written: Node keeps the head it built with one
 * `+=` per header line (`res._header`) for the response's whole life, and as a rope of a
 * hundred pieces that is ~3 KiB per open stream.
 */
import t from 'tap';
import { flattenHead } from '../../core/stream/flat-head.js';
import { exposedGc } from '../helpers/gc.js';

const gc = exposedGc();

/** A head built as Node builds one: a rope of pieces. */
function ropeHead(i: number): string {
  let head = 'HTTP/1.1 200 OK\r\n';
  for (let k = 0; k < 15; k++) head += 'x-ratelimit-header-' + k + ': ' + (i * 31 + k) + '\r\n';
  return head;
}

function heldBytes(flatten: boolean): { perHead: number; text: string } {
  gc();
  const before = process.memoryUsage().heapUsed;
  const held = Array.from({ length: 20_000 }, (_, i) => {
    const res = { _header: ropeHead(i) };
    if (flatten) flattenHead(res);
    return res;
  });
  gc();
  const perHead = (process.memoryUsage().heapUsed - before) / held.length;
  return { perHead, text: held[7]._header };
}

t.test('flattening leaves one string where a rope of pieces was', async (t) => {
  const rope = heldBytes(false);
  const flat = heldBytes(true);
  t.equal(flat.text, rope.text, 'the same text');
  t.ok(flat.perHead < rope.perHead / 2, `held per head: ${flat.perHead.toFixed(0)} B flattened vs ${rope.perHead.toFixed(0)} B as a rope`);
});

t.test('responses without a head string are left alone', async (t) => {
  t.equal(flattenHead({}), -1);
  t.equal(flattenHead({ _header: null }), -1);
  t.equal(flattenHead({ _header: 'HTTP/1.1 200 OK\r\n\r\n' }), 10);
});
