/**
 * Budgets on Redis cost few round trips: a request reserves in one script run per store
 * group (a user's day and month together), and the settlements of concurrent requests
 * (the real cost added, the estimate released) are summed per budget period and sent
 * together. What is spent and reserved
 * still comes out exact, thresholds crossed by one batch each alert once, and a stopping
 * gateway sends what is pending.
 */
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { startRedis } from '../../helpers/redis.js';
import { config, ECHO_PRICES, messages, post, redisStore } from '../fixtures.js';

/** Holds the requests sent with `x-gate` until 20 wait, then lets them go together. */
const GATE = path.resolve(import.meta.dirname, '../../fixtures/gate-filter.ts');

interface UsageBudget {
  scope: string;
  period: string;
  spent_usd: number;
  reserved_usd: number;
}

const yaml = (redisUrl: string) => config(`  - name: auth
  - name: cost
  - name: budget
    config:
      thresholds: [50, 80, 100]
      users:
        contractor1: { daily_usd: 1000, monthly_usd: 1000, action: block }
      projects:
        webide: { monthly_usd: 1000, action: block }
      global: { monthly_usd: 0.01, action: alert }
  - name: gate
    plugin: ${JSON.stringify(GATE)}
    config: { count: 20 }
  - name: audit
    config: { stdout: false }
`, redisStore(redisUrl, 'budget-batch:') + ECHO_PRICES);

// 5 tokens in and 5 out at $100/MTok: $0.001 a request.
const BODY = messages({ messages: [{ role: 'user', content: 'a twenty-char text!!' }] });
const HEADERS = { 'x-workspace-id': 'ws-abc123' };

/** Budget script runs so far: reserves and settlements. */
async function budgetScripts(url: string): Promise<{ reserves: number; settlements: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const count = (script: string) => Number(new RegExp(`gateway_store_redis_duration_seconds_count\\{script="${script}",result="ok"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return { reserves: count('budget_reserve'), settlements: count('budget') };
}

async function usage(url: string): Promise<UsageBudget[]> {
  const body = (await (await fetch(`${url}/v1/usage`, { headers: HEADERS })).json()) as { budgets: UsageBudget[] };
  return body.budgets;
}

t.test('settlements of concurrent requests are sent per budget period, not per request', async (t) => {
  const redis = await startRedis(t);
  const gw = await startGateway(t, yaml(redis.url));
  // The script's first run on a fresh Redis loads it: not part of what is counted. Reading
  // /v1/usage sends what is pending and waits for it, then peeks at the 4 budgets once.
  t.equal((await post(`${gw.url}/v1/echo/v1/messages`, HEADERS, BODY)).status, 200);
  await usage(gw.url);
  const before = await budgetScripts(gw.url);

  // The gate, after the budget filter, lets the 20 requests go in one synchronous stretch
  // once all have reserved: they complete together, as they do under load, however slowly
  // this machine gets them there.
  const results = await Promise.all(Array.from({ length: 20 }, () => post(`${gw.url}/v1/echo/v1/messages`, { ...HEADERS, 'x-gate': '1' }, BODY)));
  t.ok(results.every((r) => r.status === 200), '20 admitted');
  const budgets = await usage(gw.url);
  const after = await budgetScripts(gw.url);
  // Unbatched, one run per budget: 60 reserves (three blocking budgets) and 80 settlements (four budgets).
  t.equal(after.reserves - before.reserves, 40, "40 reserves: the user's day and month in one run, the project's month in another");
  t.equal(after.settlements - before.settlements - 4, 4, '4 settlements for 20 requests × 4 budgets: one per budget period');

  t.equal(budgets.length, 4);
  for (const b of budgets) {
    t.equal(b.spent_usd, 0.021, `${b.scope} ${b.period}: every request's cost, once`);
    t.equal(b.reserved_usd, 0, `${b.scope} ${b.period}: every estimate released`);
  }
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  for (const threshold of [50, 80, 100]) {
    t.match(metrics, new RegExp(`gateway_budget_alerts_total\\{scope="global",period="month",threshold="${threshold}"\\} 1\\n`), `the ${threshold} % alert fired once`);
  }
  t.equal(gw.logs.filter((l) => l.msg === 'budget commit failed').length, 0);
});

t.test('a stopping gateway sends its pending settlements; another replica sees them', async (t) => {
  const redis = await startRedis(t);
  const first = await startGateway(t, yaml(redis.url));
  const results = await Promise.all(Array.from({ length: 5 }, () => post(`${first.url}/v1/echo/v1/messages`, HEADERS, BODY)));
  t.ok(results.every((r) => r.status === 200));
  // Read at once, well within the batch's delay: the read sends what is pending first.
  for (const b of await usage(first.url)) t.equal(b.spent_usd, 0.005, `${b.scope} ${b.period}: /v1/usage sees every settlement made before it`);
  const more = await Promise.all(Array.from({ length: 5 }, () => post(`${first.url}/v1/echo/v1/messages`, HEADERS, BODY)));
  t.ok(more.every((r) => r.status === 200));
  await first.gateway.close();

  const second = await startGateway(t, yaml(redis.url));
  for (const b of await usage(second.url)) {
    t.equal(b.spent_usd, 0.01, `${b.scope} ${b.period}: the ten requests' cost`);
    t.equal(b.reserved_usd, 0, `${b.scope} ${b.period}: nothing left reserved`);
  }
});
