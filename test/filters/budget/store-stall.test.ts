/**
 * A Redis stall longer than `timeout_ms`: the budget's reserve is refused by the fail mode
 * (503, fail closed), but Redis still runs it once it catches up; that hold is handed back,
 * so the budget shows nothing reserved for a request that was never served.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway } from '../../helpers/gateway.js';
import { startRedis } from '../../helpers/redis.js';
import { post } from '../fixtures.js';

t.test('a hold Redis makes after the gateway gave up waiting is handed back', async (t) => {
  const redis = await startRedis(t);
  const gw = await startGateway(t, `providers:
  echo: { models: [echo-1] }
store:
  type: redis
  redis: { url: "${redis.url}", key_prefix: "stall:", fail_mode: closed, timeout_ms: 200 }
filters:
  - name: auth
  - name: cost
  - name: budget
    config:
      users:
        contractor1: { daily_usd: 100, action: block }
workspaces:
  ws-abc123: { user: contractor1, project: webide }
pricing:
  providers:
    echo: { models: { "echo-1": { input: 3, output: 15 } } }
`);
  const ask = () => post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123' }, JSON.stringify({ model: 'echo-1', max_tokens: 4000, messages: [{ role: 'user', content: 'hi' }] }));
  const usage = async () => ((await (await fetch(`${gw.url}/v1/usage`, { headers: { 'x-workspace-id': 'ws-abc123' } })).json()) as { budgets: Array<{ reserved_usd: number; spent_usd: number }> }).budgets[0];
  t.equal((await ask()).status, 200, 'served: the scripts are loaded');
  const spent = (await usage()).spent_usd;
  await redis.command('CLIENT', 'PAUSE', '800', 'ALL');
  t.equal((await ask()).status, 503, 'fail closed while Redis is too slow');
  await sleep(1000);
  let after = await usage();
  for (let i = 0; i < 30 && after.reserved_usd !== 0; i++) {
    await sleep(100);
    after = await usage();
  }
  t.equal(after.reserved_usd, 0, 'nothing held for the refused request');
  t.equal(after.spent_usd, spent, 'nor spent');
});
