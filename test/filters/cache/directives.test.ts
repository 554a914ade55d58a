/**
 * Cache directives beyond the bare `no-cache` / `no-store` of a request (cache.test.ts):
 * a request's `max-age=0` and `Pragma: no-cache` ask for a fresh answer as `no-cache` does
 * (skip the lookup, store what comes back); an upstream answer marked `no-store` or
 * `private` is not stored, for this caller or anyone sharing the scope. Before, both
 * request forms were served from the entry, and such answers were stored like any other.
 */
import t from 'tap';
import { ask, startCache, upstreamCalls } from './setup.js';

t.test('a request with max-age=0 or Pragma: no-cache skips the lookup and stores the fresh answer', async (t) => {
  const s = await startCache(t);
  await ask(s, { user: 'a' });
  s.mock.text = 'Fresh after max-age=0.';
  const fresh = await ask(s, { user: 'a', headers: { 'cache-control': 'max-age=0' } });
  t.equal(fresh.headers.get('x-cache'), 'MISS', 'max-age=0: not served from the entry');
  t.match(fresh.text, 'Fresh after max-age=0.');
  const hit = await ask(s, { user: 'a' });
  t.equal(hit.headers.get('x-cache'), 'HIT');
  t.match(hit.text, 'Fresh after max-age=0.', 'the fresh answer replaced the entry');

  s.mock.text = 'Fresh after Pragma.';
  const pragma = await ask(s, { user: 'a', headers: { pragma: 'no-cache' } });
  t.equal(pragma.headers.get('x-cache'), 'MISS', 'Pragma: no-cache without Cache-Control: not served from the entry');
  t.match((await ask(s, { user: 'a' })).text, 'Fresh after Pragma.', 'and stored');

  const both = await ask(s, { user: 'a', headers: { pragma: 'no-cache', 'cache-control': 'max-age=60' } });
  t.equal(both.headers.get('x-cache'), 'HIT', 'a Cache-Control present wins over Pragma');
  t.equal((await ask(s, { user: 'a', headers: { 'cache-control': 'max-age=5' } })).headers.get('x-cache'), 'HIT', 'another max-age does not skip the lookup');
  t.equal(upstreamCalls(s), 3);
});

for (const directive of ['no-store', 'private', 'max-age=60, No-Store', 'PRIVATE, max-age=60']) {
  t.test(`an upstream answer with Cache-Control: ${directive} is not stored (JSON and stream)`, async (t) => {
    const s = await startCache(t, { cache: { scope: 'shared' } });
    s.mock.answerHeaders = { 'cache-control': directive };
    t.equal((await ask(s, { user: 'a' })).headers.get('x-cache'), 'MISS');
    t.equal((await ask(s, { user: 'b' })).headers.get('x-cache'), 'MISS', 'the JSON answer was not stored');
    t.equal((await ask(s, { user: 'a', body: { stream: true } })).headers.get('x-cache'), 'MISS');
    t.equal((await ask(s, { user: 'b', body: { stream: true } })).headers.get('x-cache'), 'MISS', 'nor the streamed one');
    t.equal(upstreamCalls(s), 4);
    // The qualified form keeps only the named header fields out of a shared cache: no header but content-type is stored.
    s.mock.answerHeaders = { 'cache-control': 'private="set-cookie", max-age=60' };
    await ask(s, { user: 'a' });
    t.equal((await ask(s, { user: 'b' })).headers.get('x-cache'), 'HIT', 'an answer without them is (private="field" included)');
  });
}

t.test('an upstream JSON answer with Cache-Control: no-cache is not stored; a stream\'s conventional no-cache does not count', async (t) => {
  const s = await startCache(t, { cache: { scope: 'shared' } });
  // RFC 9111 §5.2.2.4: no reuse without revalidating, and a generation cannot be revalidated.
  for (const directive of ['no-cache', 'max-age=60, No-Cache']) {
    s.mock.answerHeaders = { 'cache-control': directive };
    t.equal((await ask(s, { user: 'a' })).headers.get('x-cache'), 'MISS');
    t.equal((await ask(s, { user: 'b' })).headers.get('x-cache'), 'MISS', `${directive}: the JSON answer was not stored`);
  }
  t.equal(upstreamCalls(s), 4);
  // Every SSE answer says no-cache (to proxies, about the live stream): streams are still stored.
  t.equal((await ask(s, { user: 'a', body: { stream: true } })).headers.get('x-cache'), 'MISS');
  t.equal((await ask(s, { user: 'b', body: { stream: true } })).headers.get('x-cache'), 'HIT', 'the streamed answer was stored');
  t.equal(upstreamCalls(s), 5);
  // The qualified form names header fields only, as private="field" does.
  s.mock.answerHeaders = { 'cache-control': 'no-cache="set-cookie"' };
  await ask(s, { user: 'a', body: { max_tokens: 77 } });
  t.equal((await ask(s, { user: 'b', body: { max_tokens: 77 } })).headers.get('x-cache'), 'HIT', 'no-cache="field": stored');
});
