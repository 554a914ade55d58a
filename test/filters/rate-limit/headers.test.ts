/**
 * Rate-limit headers in each client's own format, replacing the upstream's, and
 * retry-after on 429s per dialect.
 */
import t from 'tap';
import { anthropicDialect } from '../../../providers/anthropic/dialect.js';
import { formatDuration, openAiRateLimitHeaders, retryAfterSeconds } from '../../../filters/rate-limit/headers.js';
import { startGateway } from '../../helpers/gateway.js';
import { rateLimitConfig, send } from '../../helpers/rate-limit.js';

const OPENAI_DURATION = /^(\d+ms|\d+s|\d+m\d+s|\d+h\d+m\d+s)$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

t.test('formats', async (t) => {
  t.equal(formatDuration(360_000), '6m0s');
  t.equal(formatDuration(17), '17ms');
  t.equal(formatDuration(1000), '1s');
  t.equal(formatDuration(59_001), '1m0s', 'rounded up: never earlier than the truth');
  t.equal(formatDuration(3_723_000), '1h2m3s');
  t.equal(retryAfterSeconds(1), '1');
  t.equal(retryAfterSeconds(20_000), '20');
  t.equal(retryAfterSeconds(20_001), '21');
  const snap = { now: Date.parse('2026-02-04T12:00:00Z'), requests: { limit: 60, remaining: 59, resetMs: 1000 }, tokens: { limit: 100_000, remaining: 90_000, resetMs: 6000 } };
  t.same(openAiRateLimitHeaders(snap), {
    'x-ratelimit-limit-requests': '60',
    'x-ratelimit-remaining-requests': '59',
    'x-ratelimit-reset-requests': '1s',
    'x-ratelimit-limit-tokens': '100000',
    'x-ratelimit-remaining-tokens': '90000',
    'x-ratelimit-reset-tokens': '6s',
  });
  t.same(anthropicDialect.rateLimitHeaders?.(snap), {
    'anthropic-ratelimit-requests-limit': '60',
    'anthropic-ratelimit-requests-remaining': '59',
    'anthropic-ratelimit-requests-reset': '2026-02-04T12:00:01Z',
    'anthropic-ratelimit-tokens-limit': '100000',
    'anthropic-ratelimit-tokens-remaining': '90000',
    'anthropic-ratelimit-tokens-reset': '2026-02-04T12:00:06Z',
  });
  // One window only (the other dimension unlimited): the same headers for that one.
  const { tokens: _t, ...requestsOnly } = snap;
  const { requests: _r, ...tokensOnly } = snap;
  t.same(openAiRateLimitHeaders(requestsOnly), { 'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': '59', 'x-ratelimit-reset-requests': '1s' });
  t.same(openAiRateLimitHeaders(tokensOnly), { 'x-ratelimit-limit-tokens': '100000', 'x-ratelimit-remaining-tokens': '90000', 'x-ratelimit-reset-tokens': '6s' });
  t.same(anthropicDialect.rateLimitHeaders?.(requestsOnly), { 'anthropic-ratelimit-requests-limit': '60', 'anthropic-ratelimit-requests-remaining': '59', 'anthropic-ratelimit-requests-reset': '2026-02-04T12:00:01Z' });
  t.same(anthropicDialect.rateLimitHeaders?.(tokensOnly), { 'anthropic-ratelimit-tokens-limit': '100000', 'anthropic-ratelimit-tokens-remaining': '90000', 'anthropic-ratelimit-tokens-reset': '2026-02-04T12:00:06Z' });
  t.same(openAiRateLimitHeaders({ now: snap.now }), {}, 'no limits: no headers');
});

t.test('each route gets its client format, replacing the upstream headers', async (t) => {
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { default: { requests_per_minute: 2, tokens_per_minute: 10_000 } } }));

  const oai = await send(gw.url, { user: 'o', path: '/v1/oai/chat' });
  t.equal(oai.status, 200);
  t.equal(oai.headers.get('x-ratelimit-limit-requests'), '2', "the gateway's limit, not the upstream's 10000");
  t.equal(oai.headers.get('x-ratelimit-remaining-requests'), '1', "not the upstream's 9999");
  t.match(oai.headers.get('x-ratelimit-reset-requests'), OPENAI_DURATION);
  t.equal(oai.headers.get('x-ratelimit-limit-tokens'), '10000');
  t.match(oai.headers.get('x-ratelimit-reset-tokens'), OPENAI_DURATION);
  t.notOk(oai.headers.get('anthropic-ratelimit-requests-limit'));

  const anth = await send(gw.url, { user: 'a', path: '/v1/anth-test/v1/messages' });
  t.equal(anth.status, 200);
  t.equal(anth.headers.get('anthropic-ratelimit-requests-limit'), '2', "the gateway's limit, not the upstream's 4000");
  t.equal(anth.headers.get('anthropic-ratelimit-requests-remaining'), '1');
  const reset = anth.headers.get('anthropic-ratelimit-requests-reset') ?? '';
  t.match(reset, RFC3339);
  t.ok(Date.parse(reset) >= Date.now() + 28_000 && Date.parse(reset) <= Date.now() + 32_000, 'reset: when the one request has dripped back (30 s at 2 rpm)');
  t.match(anth.headers.get('anthropic-ratelimit-tokens-reset'), RFC3339);
  t.notOk(anth.headers.get('x-ratelimit-limit-requests'));
});

t.test('429 per dialect: error shape, retry-after and the headers', async (t) => {
  const gw = await startGateway(t, rateLimitConfig({ rateLimits: { default: { requests_per_minute: 3 } } }));
  for (let i = 0; i < 3; i++) await send(gw.url, { user: 'x', path: '/v1/oai/chat' });
  const oai = await send(gw.url, { user: 'x', path: '/v1/oai/chat' });
  t.equal(oai.status, 429);
  const err = oai.json().error as { code: string; type: string };
  t.equal(err.code, 'GW_ERR_RATE_LIMITED');
  t.equal(err.type, 'rate_limit');
  const retry = Number(oai.headers.get('retry-after'));
  t.ok(retry >= 19 && retry <= 20, `retry-after ${retry}: one request drips back every 20 s`);
  t.equal(oai.headers.get('x-ratelimit-remaining-requests'), '0');
  t.match(oai.headers.get('x-ratelimit-reset-requests'), /^(59s|1m0s)$/);

  const anth = await send(gw.url, { user: 'x' }); // same user, Anthropic-dialect echo route
  t.equal(anth.status, 429);
  t.equal((anth.json().error as { type: string }).type, 'rate_limit_error');
  t.ok(Number(anth.headers.get('retry-after')) >= 19);
  t.equal(anth.headers.get('anthropic-ratelimit-requests-remaining'), '0');
  t.match(anth.headers.get('anthropic-ratelimit-requests-reset'), RFC3339);
});
