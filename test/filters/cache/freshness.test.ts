/**
 * The upstream's freshness bounds an entry (RFC 9111 §4.2.1): `s-maxage`, else `max-age`,
 * else `Expires` − `Date`, less `Age`. A lifetime already used up keeps a JSON answer out;
 * a shorter one than `ttl_seconds` shortens the entry's. Before, every storable answer was
 * kept for the configured TTL whatever the upstream said.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { ask, startCache, upstreamCalls, type CacheSetup } from './setup.js';

const httpDate = (offsetSeconds: number): string => new Date(Date.now() + offsetSeconds * 1000).toUTCString();

/** MISS then whether the same request by another user is a HIT, with `headers` on the answer. */
async function storedWith(s: CacheSetup, headers: Record<string, string>, body: Record<string, unknown> = {}): Promise<boolean> {
  s.mock.answerHeaders = headers;
  const first = await ask(s, { user: 'a', body });
  if (first.headers.get('x-cache') !== 'MISS') throw new Error(`first ask: ${first.headers.get('x-cache')}`);
  return (await ask(s, { user: 'b', body })).headers.get('x-cache') === 'HIT';
}

t.test('a JSON answer whose freshness is used up is not stored', async (t) => {
  const s = await startCache(t, { cache: { scope: 'shared', ttl_seconds: 60 } });
  const cases: Array<[string, Record<string, string>]> = [
    ['max-age=0', { 'cache-control': 'max-age=0' }],
    ['s-maxage=0 over a max-age', { 'cache-control': 'max-age=600, s-maxage=0' }],
    ['an Expires before Date', { expires: httpDate(-60) }],
    ['an Expires equal to Date', { expires: 'Thu, 01 Jan 2026 00:00:00 GMT', date: 'Thu, 01 Jan 2026 00:00:00 GMT' }],
    ['an invalid Expires ("0")', { expires: '0' }],
    ['an invalid max-age', { 'cache-control': 'max-age=soon' }],
    ['a max-age the Age has used up', { 'cache-control': 'max-age=30', age: '30' }],
    ['a first max-age of 0, a later one longer', { 'cache-control': 'max-age=0, max-age=600' }],
  ];
  for (const [i, [name, headers]] of cases.entries()) {
    t.notOk(await storedWith(s, headers, { max_tokens: 100 + i }), name);
  }
  t.equal(upstreamCalls(s), cases.length * 2);
});

t.test('an answer with a lifetime left is stored, and a stream\'s used-up lifetime is not read', async (t) => {
  const s = await startCache(t, { cache: { scope: 'shared', ttl_seconds: 60 } });
  t.ok(await storedWith(s, { 'cache-control': 'max-age=600' }, { max_tokens: 101 }), 'max-age=600');
  t.ok(await storedWith(s, { 'cache-control': 's-maxage=600, max-age=0' }, { max_tokens: 102 }), 's-maxage wins over max-age=0');
  t.ok(await storedWith(s, { expires: httpDate(600) }, { max_tokens: 103 }), 'an Expires ahead of Date');
  t.ok(await storedWith(s, { 'cache-control': 'max-age=600', expires: '0' }, { max_tokens: 104 }), 'max-age present: Expires is ignored (§5.3)');
  t.ok(await storedWith(s, { 'cache-control': 'max-age="600"' }, { max_tokens: 105 }), 'the quoted form');
  // Like its no-cache, a stream's max-age=0 / past Expires is the old way of telling proxies not to hold it back.
  t.ok(await storedWith(s, { 'cache-control': 'no-cache, max-age=0' }, { max_tokens: 106, stream: true }), 'a stream with max-age=0');
  t.ok(await storedWith(s, { expires: '0' }, { max_tokens: 107, stream: true }), 'a stream with a past Expires');
});

t.test('the stored TTL is capped by max-age less Age, s-maxage taking precedence', async (t) => {
  const s = await startCache(t, { cache: { scope: 'shared', ttl_seconds: 60 } });
  const sent = Date.now();
  const cases: Array<[string, Record<string, string>, Record<string, unknown>]> = [
    ['max-age=1', { 'cache-control': 'max-age=1' }, { max_tokens: 101 }],
    ['max-age=3 with Age: 2', { 'cache-control': 'max-age=3', age: '2' }, { max_tokens: 102 }],
    ['s-maxage=1 over max-age=600', { 'cache-control': 'max-age=600, s-maxage=1' }, { max_tokens: 103 }],
    ['Expires one second after Date', { expires: new Date(sent + 1000).toUTCString(), date: new Date(sent).toUTCString() }, { max_tokens: 104 }],
    ['a stream with max-age=1', { 'cache-control': 'no-cache, max-age=1' }, { max_tokens: 105, stream: true }],
  ];
  for (const [name, headers, body] of cases) t.ok(await storedWith(s, headers, body), `${name}: stored`);
  await sleep(1300);
  for (const [name, , body] of cases) t.equal((await ask(s, { user: 'c', body })).headers.get('x-cache'), 'MISS', `${name}: expired after a second, not the 60 s TTL`);
});

t.test('the configured TTL still caps a longer upstream lifetime', async (t) => {
  const s = await startCache(t, { cache: { scope: 'shared', ttl_seconds: 1 } });
  t.ok(await storedWith(s, { 'cache-control': 'max-age=600' }));
  await sleep(1300);
  t.equal((await ask(s, { user: 'c' })).headers.get('x-cache'), 'MISS');
});

t.test("a hit's age counts on from the upstream's own Age (§4.2.3); an invalid Age counts as 0", async (t) => {
  const s = await startCache(t, { cache: { scope: 'shared', ttl_seconds: 60 } });
  const hitAge = async (headers: Record<string, string>, maxTokens: number): Promise<number> => {
    t.ok(await storedWith(s, headers, { max_tokens: maxTokens }), `${JSON.stringify(headers)}: stored`);
    return Number((await ask(s, { user: 'c', body: { max_tokens: maxTokens } })).headers.get('age'));
  };
  const within = (age: number, from: number, name: string) => t.ok(age >= from && age <= from + 2, `${name}: age ${age}, from ${from}`);
  within(await hitAge({ 'cache-control': 'max-age=600', age: '100' }, 201), 100, 'max-age=600, Age: 100');
  within(await hitAge({ age: '40' }, 202), 40, 'Age alone, no freshness headers');
  for (const [i, bad] of ['-5', '1.5', 'soon', '"7"', ''].entries()) within(await hitAge({ 'cache-control': 'max-age=600', age: bad }, 210 + i), 0, `Age: ${JSON.stringify(bad)}`);
});
