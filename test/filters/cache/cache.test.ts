/**
 * The cache filter in a real gateway in front of the Anthropic mock: hit and miss with
 * `x-cache`, what is cacheable, scope isolation, Cache-Control, TTL, the byte bound and
 * the metrics. The mock counts upstream calls, so a hit is one that never reached it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { ask, startCache, upstreamCalls } from './setup.js';

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const values = text.split('\n').filter((l) => l.startsWith(name) && !l.startsWith('#')).map((l) => Number(l.split(' ').at(-1)));
  return values.reduce((a, b) => a + b, 0);
}

t.test('miss then hit: the second identical request never reaches the upstream', async (t) => {
  const s = await startCache(t);
  const first = await ask(s, { user: 'alice' });
  t.equal(first.status, 200);
  t.equal(first.headers.get('x-cache'), 'MISS');
  const second = await ask(s, { user: 'alice' });
  t.equal(second.status, 200);
  t.equal(second.headers.get('x-cache'), 'HIT');
  t.equal(upstreamCalls(s), 1, 'one upstream call for two requests');
  t.same(JSON.parse(second.text), JSON.parse(first.text), 'the same message');
  t.equal(second.headers.get('content-type'), 'application/json');
  t.match(second.headers.get('age'), /^\d+$/);
  t.ok(second.headers.get('x-request-id'), 'a hit still carries its own request id');

  const reordered = await ask(s, { user: 'alice', body: { messages: [{ content: 'What is 2+2?', role: 'user' }], temperature: 0, max_tokens: 64, model: 'claude-sonnet-4-5', metadata: { user_id: 'x' } } });
  t.equal(reordered.headers.get('x-cache'), 'HIT', 'key order and metadata do not change the key');
  const other = await ask(s, { user: 'alice', body: { max_tokens: 65 } });
  t.equal(other.headers.get('x-cache'), 'MISS', 'any other field does');
  const beta = await ask(s, { user: 'alice', headers: { 'anthropic-beta': 'some-beta-2025-01-01' } });
  t.equal(beta.headers.get('x-cache'), 'MISS', 'a vary header (anthropic-beta) is part of the key');

  t.equal(await metric(s.gw.url, 'gateway_cache_hits_total'), 2);
  t.equal(await metric(s.gw.url, 'gateway_cache_misses_total'), 3);
  t.equal(await metric(s.gw.url, 'gateway_cache_writes_total'), 3);
  t.equal(await metric(s.gw.url, 'gateway_cache_entries'), 3);
  t.ok((await metric(s.gw.url, 'gateway_cache_bytes')) > 3 * 256, 'bytes held include the bodies');
});

t.test('only cacheable requests take part: temperature 0 or the opt-in header; never without an identity in user scope', async (t) => {
  const s = await startCache(t);
  const warm = await ask(s, { user: 'bob', body: { temperature: 0.7 } });
  t.equal(warm.headers.get('x-cache'), null, 'temperature 0.7 is not cacheable: no x-cache at all');
  await ask(s, { user: 'bob', body: { temperature: 0.7 } });
  t.equal(upstreamCalls(s), 2);

  const optIn = { 'x-gateway-cache': 'on' };
  t.equal((await ask(s, { user: 'bob', body: { temperature: 0.7 }, headers: optIn })).headers.get('x-cache'), 'MISS');
  t.equal((await ask(s, { user: 'bob', body: { temperature: 0.7 }, headers: optIn })).headers.get('x-cache'), 'HIT', 'x-gateway-cache: on opts in');
  await ask(s, { user: 'bob' });
  t.equal((await ask(s, { user: 'bob', headers: { 'x-gateway-cache': 'off' } })).headers.get('x-cache'), null, 'x-gateway-cache: off opts out');

  t.equal((await ask(s)).headers.get('x-cache'), null, 'no identity: nothing to scope a per-user entry to');

  const strict = await startCache(t, { cache: { temperature_zero: false } });
  t.equal((await ask(strict, { user: 'bob' })).headers.get('x-cache'), null, 'temperature_zero: false');
  t.equal((await ask(strict, { user: 'bob', headers: optIn })).headers.get('x-cache'), 'MISS');
});

t.test('scope: per user and workspace by default; shared only when configured', async (t) => {
  const s = await startCache(t);
  await ask(s, { user: 'alice', workspace: 'ws-1' });
  t.equal((await ask(s, { user: 'bob', workspace: 'ws-1' })).headers.get('x-cache'), 'MISS', "bob does not get alice's entry");
  t.equal((await ask(s, { user: 'alice', workspace: 'ws-2' })).headers.get('x-cache'), 'MISS', 'nor does alice in another workspace');
  t.equal((await ask(s, { user: 'alice', workspace: 'ws-1' })).headers.get('x-cache'), 'HIT');
  t.equal(upstreamCalls(s), 3);

  const shared = await startCache(t, { cache: { scope: 'shared' } });
  await ask(shared, { user: 'alice' });
  t.equal((await ask(shared, { user: 'bob' })).headers.get('x-cache'), 'HIT', 'shared scope: one entry for everyone');
  t.equal((await ask(shared)).headers.get('x-cache'), 'HIT', 'even without an identity');
});

t.test('Cache-Control: no-cache skips the lookup but stores; no-store does neither', async (t) => {
  const s = await startCache(t);
  await ask(s, { user: 'c' });
  const fresh = await ask(s, { user: 'c', headers: { 'cache-control': 'no-cache' } });
  t.equal(fresh.headers.get('x-cache'), 'MISS', 'no-cache: not served from the entry');
  t.equal(upstreamCalls(s), 2);

  s.mock.text = 'A newer answer.';
  t.equal((await ask(s, { user: 'c', headers: { 'cache-control': 'no-cache' } })).headers.get('x-cache'), 'MISS');
  const hit = await ask(s, { user: 'c' });
  t.equal(hit.headers.get('x-cache'), 'HIT');
  t.match(hit.text, 'A newer answer.', 'no-cache stored the fresh answer');

  s.mock.text = 'Never stored.';
  const nostore = await ask(s, { user: 'c', body: { max_tokens: 99 }, headers: { 'cache-control': 'max-age=0, no-store' } });
  t.equal(nostore.headers.get('x-cache'), 'MISS');
  const after = await ask(s, { user: 'c', body: { max_tokens: 99 } });
  t.equal(after.headers.get('x-cache'), 'MISS', 'no-store: nothing was stored');
  t.equal((await ask(s, { user: 'c', headers: { 'cache-control': 'no-store' } })).headers.get('x-cache'), 'MISS', 'no-store: no lookup either');
});

t.test('TTL: an entry expires', async (t) => {
  const s = await startCache(t, { cache: { ttl_seconds: 0.3 } });
  await ask(s, { user: 'd' });
  t.equal((await ask(s, { user: 'd' })).headers.get('x-cache'), 'HIT');
  await sleep(450);
  t.equal((await ask(s, { user: 'd' })).headers.get('x-cache'), 'MISS', 'past its TTL');
  t.equal(upstreamCalls(s), 2);
  t.equal(await metric(s.gw.url, 'gateway_cache_evictions_total{reason="expire"}'), 1);
});

t.test('the byte bound evicts the least recently used entry; an oversized answer is not stored', async (t) => {
  const s = await startCache(t, { cache: { max_bytes: 2048 } });
  s.mock.text = 'x'.repeat(500); // each entry: ~800 bytes of body + 256 overhead
  await ask(s, { user: 'e', body: { max_tokens: 1 } });
  await ask(s, { user: 'e', body: { max_tokens: 2 } });
  t.equal(await metric(s.gw.url, 'gateway_cache_entries'), 1, 'two entries do not fit in 2048 bytes: the first went');
  t.equal(await metric(s.gw.url, 'gateway_cache_evictions_total{reason="evict"}'), 1);
  t.equal((await ask(s, { user: 'e', body: { max_tokens: 2 } })).headers.get('x-cache'), 'HIT', 'the newer one stays');
  t.equal((await ask(s, { user: 'e', body: { max_tokens: 1 } })).headers.get('x-cache'), 'MISS', 'the older one was evicted');
  t.ok((await metric(s.gw.url, 'gateway_cache_bytes')) <= 2048);

  const small = await startCache(t, { cache: { max_entry_bytes: 100 } });
  await ask(small, { user: 'e' });
  t.equal((await ask(small, { user: 'e' })).headers.get('x-cache'), 'MISS', 'larger than max_entry_bytes: never stored');
});

t.test('an answer cut short by a client abort is not stored', async (t) => {
  const s = await startCache(t);
  s.mock.hold = true; // message_start, then nothing
  const ac = new AbortController();
  const res = await fetch(`${s.base}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user': 'f' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, temperature: 0, stream: true, messages: [{ role: 'user', content: 'What is 2+2?' }] }),
    signal: ac.signal,
  });
  t.equal(res.headers.get('x-cache'), 'MISS');
  const reader = res.body!.getReader();
  await reader.read();
  ac.abort();
  await reader.read().catch(() => undefined);
  await s.mock.last!.closed;
  s.mock.hold = false;
  t.equal((await ask(s, { user: 'f' })).headers.get('x-cache'), 'MISS', 'the partial stream was not kept');
  t.equal((await ask(s, { user: 'f' })).headers.get('x-cache'), 'HIT');
});

t.test('an upstream failure is not stored', async (t) => {
  const s = await startCache(t);
  await s.mock.close();
  const first = await ask(s, { user: 'g' });
  t.equal(first.status, 502);
  t.equal(first.headers.get('x-cache'), 'MISS');
  t.equal((await ask(s, { user: 'g' })).headers.get('x-cache'), 'MISS', 'the error reply was not kept');
});
