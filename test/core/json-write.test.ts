/** writeJson and stringifyJson: JSON.stringify's text at any depth. */
import t from 'tap';
import { stringifyJson, writeJson } from '../../core/json-write.js';
import { random, randomValue } from '../helpers/random-json.js';

t.test('writeJson writes what JSON.stringify writes', async (t) => {
  for (let seed = 1; seed <= 500; seed++) {
    const value = randomValue(random(seed), 0);
    if (!t.equal(writeJson(value), JSON.stringify(value), `random value ${seed}`)) break;
  }
  const odd = { a: undefined, b: () => 1, c: [undefined, () => 1, Number.NaN, -0, Infinity], d: '\ud800', e: 1e21, '': null };
  t.equal(writeJson(odd), JSON.stringify(odd), 'undefined, functions, non-finite numbers, a lone surrogate');
  t.equal(writeJson({ b: 1, a: { d: 2, c: 3 } }, true), '{"a":{"c":3,"d":2},"b":1}', 'keys sorted on request');
});

t.test('stringifyJson: JSON.stringify, and where its stack runs out the writer', async (t) => {
  const text = `{"x":${'[{"a":'.repeat(20_000)}1${'}]'.repeat(20_000)}}`;
  const deep = JSON.parse(text) as unknown;
  t.throws(() => JSON.stringify(deep), RangeError, 'V8 stops here');
  t.equal(stringifyJson(deep), text, '20,000 levels written');
  t.equal(stringifyJson({ a: [1, 'é'] }), '{"a":[1,"é"]}');
});
