import t from 'tap';
import { queryParameters } from '../../core/query.js';

t.test('query parameters as a URI has them: a + is itself, not a space', async (t) => {
  t.same(queryParameters('x=a+b'), { x: 'a+b' }, 'a literal +');
  t.same(queryParameters('x=%2B&y=a%20b'), { x: '+', y: 'a b' }, 'escapes decoded');
  t.same(queryParameters('a+b=1'), { 'a+b': '1' }, 'in a name too');
  t.same(queryParameters('x=1&x=2&x=3'), { x: ['1', '2', '3'] }, 'repeated names as arrays');
  t.same(queryParameters('q&r=&s=a=b'), { q: '', r: '', s: 'a=b' }, 'split at the first =');
  t.same(queryParameters('x=%zz&y=100%&z=%E2%82'), { x: '%zz', y: '100%', z: '\ufffd' }, 'a malformed escape stays as URLSearchParams leaves it');
  t.same(queryParameters(''), {});
});
