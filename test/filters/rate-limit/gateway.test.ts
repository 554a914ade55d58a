/**
 * The filter in a real in-process gateway on the memory store: edges for requests and
 * tokens (streamed usage reconciled), concurrent requests against a nearly spent budget,
 * what is counted, and a reload that changes a user's limit mid-window.
 */
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { rateLimitConfig, send, get, usageOf } from '../../helpers/rate-limit.js';

// One estimated input token per request, so a request's estimate is exactly max_tokens + 1.
const exact = { bytes_per_token: 1e9 };

t.test('requests: at and over the edge, per user, with a default, an override and anonymous callers', async (t) => {
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { default: { requests_per_minute: 2 }, users: { vip: { requests_per_minute: 3 } } } }));
  for (const [user, limit] of [['alice', 2], ['vip', 3], [undefined, 2]] as const) {
    for (let i = 0; i < limit; i++) t.equal((await send(gw.url, { user })).status, 200, `${user ?? 'anonymous'} request ${i + 1} of ${limit}`);
    const over = await send(gw.url, { user });
    t.equal(over.status, 429, `${user ?? 'anonymous'} request ${limit + 1} is refused`);
    t.equal(over.json().type, 'error');
    t.equal((over.json().error as { type: string }).type, 'rate_limit_error', 'Anthropic dialect: RateLimitError in the SDK');
    const retry = Number(over.headers.get('retry-after'));
    t.ok(retry >= Math.floor(60 / limit) - 1 && retry <= Math.ceil(60 / limit), `retry-after ${retry}s is when one request has dripped back (60/${limit} s)`);
    t.equal(over.headers.get('anthropic-ratelimit-requests-remaining'), '0');
    t.equal(over.headers.get('anthropic-ratelimit-requests-limit'), String(limit));
  }
  t.equal((await send(gw.url, { user: 'bob' })).status, 200, 'another user has a budget of their own');
  const metrics = await (await fetch(gw.url + '/metrics')).text();
  t.match(metrics, /gateway_rate_limit_rejections_total\{scope="user",reason="requests"\} 3/);
});

t.test('the global limit caps everyone together', async (t) => {
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { global: { requests_per_minute: 3 }, default: { requests_per_minute: 100 } } }));
  for (const user of ['a', 'b', 'c']) t.equal((await send(gw.url, { user })).status, 200);
  const over = await send(gw.url, { user: 'd' });
  t.equal(over.status, 429);
  t.match((over.json().error as { message: string }).message, /gateway is over its requests per minute limit/);
  const u = await usageOf(gw.url, 'd', 'user', 'requests');
  t.equal(u.remaining, 100, "the refused request was handed back to the user's own budget");
});

t.test('tokens: streamed usage replaces the estimate; at and over the edge', async (t) => {
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { default: { requests_per_minute: 100, tokens_per_minute: 100 } }, filter: exact }));
  const text = 'x'.repeat(40); // echo: 10 input + 10 output tokens
  const streamed = await send(gw.url, { user: 'tok', text, maxTokens: 60, stream: true });
  t.equal(streamed.status, 200);
  t.match(streamed.body, /message_delta/);
  t.equal(streamed.headers.get('anthropic-ratelimit-tokens-remaining'), '39', 'the head shows the 61-token reservation');
  const after = await usageOf(gw.url, 'tok', 'user', 'tokens');
  t.ok(after.remaining >= 80 && after.remaining <= 90, `the 61 reserved became the 20 used (remaining ${after.remaining}, plus what dripped back)`);

  const over = await send(gw.url, { user: 'tok', maxTokens: after.remaining + 5 }); // estimate: remaining + 6
  t.equal(over.status, 429, 'an estimate over what is left is refused');
  t.equal(Number(over.headers.get('retry-after')) >= 1, true);
  const now = await usageOf(gw.url, 'tok', 'user', 'tokens');
  const at = await send(gw.url, { user: 'tok', maxTokens: now.remaining - 1 }); // estimate: exactly remaining
  t.equal(at.status, 200, 'an estimate of exactly what is left is admitted');
});

t.test('concurrent requests against a nearly spent token budget: exactly what is left is admitted', async (t) => {
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { default: { requests_per_minute: 1000, tokens_per_minute: 100 } }, filter: exact, echoDelayMs: 300 }));
  t.equal((await send(gw.url, { user: 'c', text: 'x'.repeat(40), maxTokens: 20 })).status, 200, '20 tokens spent, about 80 left');
  // Each estimate is 60: one fits in 80, two never do (the reservation holds while the stream runs).
  const racers = await Promise.all(Array.from({ length: 10 }, () => send(gw.url, { user: 'c', maxTokens: 59, stream: true })));
  const statuses = racers.map((r) => r.status).sort();
  t.same(statuses, [200, ...Array(9).fill(429)], 'one admitted, nine refused');
});

t.test('auxiliary and operational calls are not limited unless configured', async (t) => {
  const rateLimits = { default: { requests_per_minute: 1 } };
  const gw = await startGateway(t, rateLimitConfig({ rateLimits }));
  for (let i = 0; i < 4; i++) t.equal((await get(gw.url, '/v1/echo/v1/models', 'm')).status, 200, 'model list (auxiliary)');
  for (let i = 0; i < 4; i++) t.equal((await get(gw.url, '/v1/usage', 'm')).status, 200, '/v1/usage (operational)');
  t.equal((await send(gw.url, { user: 'm' })).status, 200, 'the one generation call still fits');
  t.equal((await send(gw.url, { user: 'm' })).status, 429);

  const strict = await startGateway(t, rateLimitConfig({ rateLimits, filter: { limit_auxiliary: true } }));
  t.equal((await get(strict.url, '/v1/echo/v1/models', 'm')).status, 200);
  t.equal((await get(strict.url, '/v1/echo/v1/models', 'm')).status, 429, 'limit_auxiliary counts them');
});

t.test('reload: a user limit changed mid-window applies at once and the spend survives', async (t) => {
  const before = { default: { requests_per_minute: 10 }, users: { bob: { requests_per_minute: 2 } } };
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: before }));
  for (let i = 0; i < 2; i++) t.equal((await send(gw.url, { user: 'bob' })).status, 200);
  t.equal((await send(gw.url, { user: 'bob' })).status, 429);
  t.equal((await send(gw.url, { user: 'eve' })).status, 200);

  writeFileSync(gw.configPath, rateLimitConfig({ rateLimits: { ...before, users: { bob: { requests_per_minute: 4 } } } }));
  const r = await gw.gateway.reload();
  t.ok(r.ok && r.changed, 'reloaded');
  t.equal((await send(gw.url, { user: 'bob' })).status, 200, 'raised to 4: two more');
  t.equal((await send(gw.url, { user: 'bob' })).status, 200);
  t.equal((await send(gw.url, { user: 'bob' })).status, 429, 'the two spent before the reload still count');
  t.equal((await usageOf(gw.url, 'eve', 'user', 'requests')).remaining, 9, "eve's spend survived the reload too");
});

t.test('/v1/usage shows each limit with limit, remaining and reset', async (t) => {
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { global: { requests_per_minute: 1000, tokens_per_minute: 1_000_000 }, default: { requests_per_minute: 60, tokens_per_minute: 100_000 } } }));
  await send(gw.url, { user: 'u' });
  const body = (await get(gw.url, '/v1/usage', 'u')).json();
  t.equal(body.user, 'u');
  const limits = body.rate_limits as Record<string, Record<string, { limit: number; remaining: number; reset: string }>>;
  t.equal(limits.user.requests_per_minute.limit, 60);
  t.equal(limits.user.requests_per_minute.remaining, 59);
  t.equal(limits.global.tokens_per_minute.limit, 1_000_000);
  const reset = Date.parse(limits.user.requests_per_minute.reset);
  t.ok(reset > Date.now() && reset <= Date.now() + 1100, 'reset: when the one request has dripped back (1 s at 60 rpm)');
});
