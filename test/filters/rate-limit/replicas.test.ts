/**
 * Two gateway processes sharing one real redis-server admit exactly one limit's worth
 * between them, for requests and for tokens.
 */
import t from 'tap';
import { writeConfig } from '../../helpers/gateway.js';
import { spawnGateway } from '../../helpers/gateway-process.js';
import { startRedis } from '../../helpers/redis.js';
import { rateLimitConfig, send } from '../../helpers/rate-limit.js';

t.test('two gateway processes on one Redis admit exactly one limit', async (t) => {
  const redis = await startRedis(t);
  const yaml = rateLimitConfig({
    rateLimits: { default: { requests_per_minute: 5 }, users: { tk: { requests_per_minute: 1000, tokens_per_minute: 100 } } },
    store: { type: 'redis', redis: { url: redis.url, key_prefix: 'replicas:', fail_mode: 'closed', timeout_ms: 2000 } },
    filter: { bytes_per_token: 1e9 },
    echoDelayMs: 300,
  });
  const { file } = writeConfig(yaml);
  const [a, b] = (await Promise.all([spawnGateway(t, file), spawnGateway(t, file)])).map((g) => g.url);
  t.not(a, b, 'two listeners');

  const requests = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i % 2 ? a : b, { user: 'shared' })));
  const ok = requests.filter((r) => r.status === 200).length;
  t.equal(ok, 5, '20 requests spread over both replicas: exactly 5 admitted at 5 rpm');
  t.equal(requests.filter((r) => r.status === 429).length, 15, 'the rest refused');

  // Estimates of 30 tokens held by slow streams: 3 fit in 100, on whichever replica.
  const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => send(i % 2 ? a : b, { user: 'tk', maxTokens: 29, stream: true })));
  t.equal(tokens.filter((r) => r.status === 200).length, 3, 'exactly 3 of 10 concurrent 30-token requests against 100 tokens');
});
