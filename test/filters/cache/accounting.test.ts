/**
 * What a hit costs: with rate-limit before the cache (the seed's order) a hit still
 * takes one request from the limit, but its token reservation is reconciled to zero, and
 * the audit line says `cache_hit: true` with zero tokens.
 */
import t from 'tap';
import { usageOf } from '../../helpers/rate-limit.js';
import { waitFor } from '../fixtures.js';
import { ask, startCache, upstreamCalls } from './setup.js';

t.test('a hit is never charged against token limits; the request is still counted', async (t) => {
  const s = await startCache(t, { rateLimits: { default: { requests_per_minute: 100, tokens_per_minute: 100 } } });
  s.mock.usage = { input_tokens: 12, output_tokens: 8, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  // Each admission reserves max_tokens + 1 = 65 tokens: two uncharged at once would not fit in 100.
  t.equal((await ask(s, { user: 'u' })).status, 200);
  const afterMiss = await usageOf(s.gw.url, 'u', 'user', 'tokens');
  t.ok(afterMiss.remaining >= 80 && afterMiss.remaining <= 82, `the miss cost its 20 real tokens (remaining ${afterMiss.remaining})`);
  for (let i = 0; i < 5; i++) {
    const hit = await ask(s, { user: 'u' });
    t.equal(hit.status, 200, `hit ${i + 1} admitted`);
    t.equal(hit.headers.get('x-cache'), 'HIT');
    t.ok(hit.headers.get('anthropic-ratelimit-tokens-remaining'), 'rate-limit headers on a hit too');
  }
  t.equal(upstreamCalls(s), 1);
  const tokens = await usageOf(s.gw.url, 'u', 'user', 'tokens');
  t.ok(tokens.remaining >= afterMiss.remaining, `five hits cost no tokens (remaining ${tokens.remaining})`);
  const requests = await usageOf(s.gw.url, 'u', 'user', 'requests');
  t.ok(requests.remaining <= 95, `six requests counted against the request limit (remaining ${requests.remaining})`);
});

t.test('the audit line of a hit: cache_hit true, zero tokens, replied by the cache', async (t) => {
  const s = await startCache(t);
  await ask(s, { user: 'v', workspace: 'ws-v', id: 'req-miss' });
  await ask(s, { user: 'v', workspace: 'ws-v', id: 'req-hit', body: { stream: true } });
  await ask(s, { user: 'v', workspace: 'ws-v', id: 'req-plain', body: { temperature: 1 } });
  t.ok(await waitFor(() => s.audit().length >= 3));
  const byId = new Map(s.audit().map((l) => [l.request_id, l]));
  t.match(byId.get('req-miss'), { status: 200, cache_hit: false, tokens_in: s.mock.usage.input_tokens, replied_by: null });
  t.match(byId.get('req-hit'), { status: 200, cache_hit: true, tokens_in: 0, tokens_out: 0, cache_read_tokens: 0, cache_creation_tokens: 0, replied_by: 'cache', stream: true, user: 'v', workspace: 'ws-v', model: 'claude-sonnet-4-5', error: null, upstream_ms: 0 });
  t.ok((byId.get('req-hit')!.bytes_out as number) > 0, 'the replayed bytes are counted');
  t.match(byId.get('req-plain'), { cache_hit: false });
  const metrics = await (await fetch(`${s.gw.url}/metrics`)).text();
  t.match(metrics, /gateway_cache_hits_total\{provider="anthropic"\} 1/);
});
