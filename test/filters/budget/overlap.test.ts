/**
 * `rate-limit` then `budget` on Redis: both are independent filters, so the budget's
 * reserves go out with the rate limiter's round trip instead of after it. Whichever of the
 * two refuses, the client gets the first refusal in config order, the other filter's
 * reservation is handed back, and only the refusal the client got is counted.
 */
import net from 'node:net';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { startRedis } from '../../helpers/redis.js';
import { config, ECHO_PRICES, messages, post, redisStore } from '../fixtures.js';

const yaml = (redisUrl: string) => config(`  - name: auth
  - name: cost
  - name: rate-limit
  - name: budget
    config:
      users:
        contractor1: { daily_usd: 1000, monthly_usd: 1000 }
        admin: { daily_usd: 0 }
`, `rate_limits:
  default: { requests_per_minute: 2 }
${redisStore(redisUrl, 'overlap:')}${ECHO_PRICES}`);

interface Usage {
  budgets: Array<{ period: string; spent_usd: number; reserved_usd: number }>;
  rate_limits: { user: { requests_per_minute: { remaining: number } } };
}

async function usage(url: string, workspace: string): Promise<Usage> {
  return (await (await fetch(`${url}/v1/usage`, { headers: { 'x-workspace-id': workspace } })).json()) as Usage;
}

/** A TCP relay in front of Redis that keeps what the gateway writes, chunk by chunk. */
async function relay(t: { teardown(fn: () => unknown): void }, port: number): Promise<{ url: string; chunks: string[] }> {
  const chunks: string[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    client.on('data', (d) => {
      chunks.push(d.toString('latin1'));
      upstream.write(d);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  return { url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`, chunks };
}

const scriptsIn = (chunk: string) => chunk.match(/evalsha/gi)?.length ?? 0;

const metric = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(name)).join('\n');

t.test("the budget's reserve goes to Redis in the rate limiter's write", async (t) => {
  const redis = await startRedis(t);
  const via = await relay(t, redis.port);
  const gw = await startGateway(t, yaml(via.url));
  const headers = { 'x-workspace-id': 'ws-abc123' };
  t.equal((await post(`${gw.url}/v1/echo/v1/messages`, headers)).status, 200, 'the first request loads the scripts');
  await new Promise((r) => setTimeout(r, 50)); // its settlements, 5 ms later
  const from = via.chunks.length;
  t.equal((await post(`${gw.url}/v1/echo/v1/messages`, headers)).status, 200);
  const first = via.chunks.slice(from).find((c) => scriptsIn(c) > 0) ?? '';
  // The user's rate-limit scope, and the user's day and month budgets in one reserve.
  t.equal(scriptsIn(first), 2, 'both scripts in one write: no second round trip before the request is forwarded');
});

t.test('a rate-limit refusal: the budget reserved alongside hands its estimate back', async (t) => {
  const redis = await startRedis(t);
  const gw = await startGateway(t, yaml(redis.url));
  const headers = { 'x-workspace-id': 'ws-abc123' };
  for (let i = 0; i < 2; i++) t.equal((await post(`${gw.url}/v1/echo/v1/messages`, headers)).status, 200);
  const served = await usage(gw.url, 'ws-abc123');
  // Its estimate, 4,000 output tokens at $100/MTok, is $0.40: plain to see if it stayed held.
  const over = await post(`${gw.url}/v1/echo/v1/messages`, headers, messages({ max_tokens: 4000 }));
  t.equal(over.status, 429, 'the rate limiter refuses the third request');

  const after = await usage(gw.url, 'ws-abc123');
  t.equal(after.budgets.length, 2);
  after.budgets.forEach((b, i) => {
    t.equal(b.reserved_usd, 0, `${b.period}: the refused request's estimate is not held`);
    t.ok(b.spent_usd > 0, `${b.period}: the served requests are spent`);
    t.equal(b.spent_usd, served.budgets[i].spent_usd, `${b.period}: the refused request spent nothing`);
  });
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.match(metric(metrics, 'gateway_rate_limit_rejections_total'), /\{scope="user",reason="requests"\} 1/);
  t.notMatch(metric(metrics, 'gateway_budget_rejections_total'), /\} [1-9]/, 'no budget refusal counted');
  t.equal(gw.logs.filter((l) => l.msg === 'request refused by budget').length, 0);
});

t.test('budget refusals: only those the client got are counted', async (t) => {
  const redis = await startRedis(t);
  const gw = await startGateway(t, yaml(redis.url));
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws_under_score' });
    statuses.push(res.status);
    if (res.status === 403) t.match((JSON.parse(res.text) as { error: { message: string } }).error.message, /daily budget of user "admin"/);
  }
  // admin's daily budget is $0. The rate limiter admits two requests a minute, so the
  // third is its refusal, though the budget (reserving alongside) refused that one too.
  t.same(statuses, [403, 403, 429]);
  const u = await usage(gw.url, 'ws_under_score');
  t.equal(u.rate_limits.user.requests_per_minute.remaining, 0, 'the rate limiter counted the two requests it admitted');
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.match(metric(metrics, 'gateway_budget_rejections_total'), /\{scope="user",period="day"\} 2\n?$/, 'two budget refusals, not three');
  t.match(metric(metrics, 'gateway_rate_limit_rejections_total'), /\{scope="user",reason="requests"\} 1/);
  t.equal(gw.logs.filter((l) => l.msg === 'request refused by budget').length, 2, 'logged once each');
});

t.test('Redis down, fail-closed: the rate limiter answers 503, the budget failure alongside is dropped', async (t) => {
  const redis = await startRedis(t);
  const gw = await startGateway(t, yaml(redis.url));
  const headers = { 'x-workspace-id': 'ws-abc123' };
  t.equal((await post(`${gw.url}/v1/echo/v1/messages`, headers)).status, 200);
  await redis.kill();
  await new Promise((r) => setTimeout(r, 300));
  const down = await post(`${gw.url}/v1/echo/v1/messages`, headers);
  t.equal(down.status, 503);
  t.equal((JSON.parse(down.text) as { error: { type: string } }).error.type, 'api_error', 'in the Anthropic dialect');
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.match(metric(metrics, 'gateway_rate_limit_rejections_total'), /\{scope="store",reason="store_unavailable"\} 1/, "the rate limiter's refusal");
  t.notMatch(metric(metrics, 'gateway_budget_rejections_total'), /\} [1-9]/);
  t.equal(gw.logs.filter((l) => l.msg === 'filter onRequest threw').length, 0, 'a store failure is no internal error');

  await redis.restart();
  let served = false;
  for (let i = 0; i < 50 && !served; i++) {
    served = (await post(`${gw.url}/v1/echo/v1/messages`, headers)).status === 200;
    if (!served) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(served, 'served again once Redis is back');
  for (const b of (await usage(gw.url, 'ws-abc123')).budgets) t.equal(b.reserved_usd, 0, `${b.period}: nothing left held`);
});
