/** A gateway whose guardrails keep their state on a real redis-server, for the guardrails tests. */
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { config, messages, post, redisStore } from '../fixtures.js';

export const KEY_PREFIX = 'gw:';

/**
 * Starts redis and a gateway with `filters` on it, and returns once the store serves: the
 * gateway connects in the background, and guardrails let requests through until it has.
 */
export async function redisGateway(t: { teardown(fn: () => unknown): void }, filters: string): Promise<{ gw: TestGateway; redis: TestRedis }> {
  const redis = await startRedis(t);
  const gw = await startGateway(t, config(filters, redisStore(redis.url, KEY_PREFIX)));
  const warmUp = { 'x-workspace-id': 'ws-abc123', 'x-claude-code-session-id': 'warm-up' };
  for (let i = 0; i < 100; i++) {
    await post(`${gw.url}/v1/echo/v1/messages`, warmUp, messages());
    if ((await redis.command('EXISTS', `${KEY_PREFIX}{gr:warm-up}:tokens`)) === ':1\r\n') return { gw, redis };
    await sleep(50);
  }
  throw new Error('the gateway never recorded a request in redis');
}
