/**
 * `server.workers: 2`, `/metrics` of gauges that are a state, not an amount: each
 * worker's breaker and Redis connection is its own, and the primary combines them as a
 * state (`max`, `min`), so the value stays in its documented range and the shipped
 * alert `max by (target) (gateway_circuit_state) == 2` can fire.
 */
import t from 'tap';
import { writeConfig } from '../helpers/gateway.js';
import { metric } from '../helpers/live.js';
import { freePort } from '../helpers/ports.js';
import { startRedis } from '../helpers/redis.js';
import { send, startCluster } from '../helpers/cluster.js';

function config(port: number, redisUrl: string): string {
  return `server:
  host: 127.0.0.1
  port: ${port}
  workers: 2
  drain_timeout_ms: 2000
providers:
  echo:
    models: [echo-1]
  anthropic:
    api_key: k
    base_url: http://127.0.0.1:1
    resilience:
      breaker: { consecutive_failures: 1, cooldown_ms: 600000 }
filters:
  - name: auth
    config: { source: static }
  - name: rate-limit
workspaces:
  ws-a: { user: alice }
rate_limits:
  default: { requests_per_minute: 100000 }
store: { type: redis, redis: { url: "${redisUrl}" } }
`;
}

const claude = (url: string) =>
  send(url, {
    method: 'POST',
    path: '/v1/claude/v1/messages',
    headers: { 'x-workspace-id': 'ws-a', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });

t.test('two workers: a state gauge reads as a state, an amount is summed', async (t) => {
  const redis = await startRedis(t);
  const port = await freePort();
  const { file } = writeConfig(config(port, redis.url));
  const cli = await startCluster(t, file, { AI_GATEWAY_WORKER_HEADER: '1' });
  t.equal(cli.child.exitCode, null, 'cluster running');
  const url = `http://127.0.0.1:${port}`;

  const closed = (await send(url, { path: '/metrics' })).body;
  t.match(closed, /^gateway_circuit_state\{target="anthropic"\} 0$/m, 'closed in both: 0');
  t.equal(metric(closed, 'gateway_store_redis_up'), 1, 'both workers connected: 1, as its help says');
  t.equal(metric(closed, 'gateway_in_flight_requests'), 0);

  // The upstream refuses connections: each worker's first request opens its own breaker.
  const seen = new Set<string>();
  for (let i = 0; i < 20 && seen.size < 2; i++) seen.add(String((await claude(url)).headers['x-gateway-worker']));
  t.equal(seen.size, 2, 'both workers saw the upstream fail, so both breakers are open');
  const open = (await send(url, { path: '/metrics' })).body;
  t.equal(metric(open, 'gateway_circuit_state{target="anthropic"}'), 2, 'open in both reads 2 (open), not 4');
  t.equal(metric(open, 'gateway_store_redis_up'), 1);
});
