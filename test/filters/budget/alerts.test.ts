import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { MemoryStore } from '../../../core/index.js';
import { budgetScript, Mode, reserveScript } from '../../../filters/budget/script.js';
import { startGateway } from '../../helpers/gateway.js';
import { config, ECHO_PRICES, messages, post, waitFor } from '../fixtures.js';

/** A webhook receiver that answers 500 to the first `failFirst` posts. */
async function receiver(t: { teardown(fn: () => unknown): void }, failFirst: number) {
  const posts: Array<{ status: number; body: Record<string, unknown> }> = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c));
    req.on('end', () => {
      const status = posts.length < failFirst ? 500 : 200;
      posts.push({ status, body: JSON.parse(data) as Record<string, unknown> });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, posts };
}

t.test('each threshold alerts exactly once per budget and period; the webhook is retried', async (t) => {
  const hook = await receiver(t, 1);
  const gw = await startGateway(t, config(`  - name: auth
  - name: cost
  - name: budget
    config:
      users:
        contractor1: { daily_usd: 0.01, monthly_usd: 0.01, action: alert }
      webhook: { url: "${hook.url}", retries: 3, backoff_ms: 20 }
  - name: audit
    config: { stdout: false }
`, ECHO_PRICES));
  const url = `${gw.url}/v1/echo/v1/messages`;
  // Each request: 5 tokens in and 5 out at $100/MTok, $0.001; 20 of them pass 100 % twice over.
  for (let i = 0; i < 20; i++) {
    const r = await post(url, { 'x-workspace-id': 'ws-abc123' }, messages({ messages: [{ role: 'user', content: 'a twenty-char text!!' }] }));
    t.equal(r.status, 200, 'alert-only: never refused');
  }
  t.ok(await waitFor(() => hook.posts.filter((p) => p.status === 200).length >= 6));
  await new Promise((r) => setTimeout(r, 200));
  const delivered = hook.posts.filter((p) => p.status === 200).map((p) => p.body);
  t.equal(hook.posts.length, 7, 'six alerts, one of them delivered on the second attempt');
  t.equal(hook.posts[0].status, 500, 'the first attempt failed');
  const failed = JSON.stringify(hook.posts[0].body);
  t.ok(hook.posts.slice(1).some((p) => p.status === 200 && JSON.stringify(p.body) === failed), 'and the same alert was retried and delivered');
  const seen = delivered.map((b) => `${(b.budget as { period: string }).period}:${b.threshold_percent as number}`).sort();
  t.same(seen, ['day:100', 'day:50', 'day:80', 'month:100', 'month:50', 'month:80'], 'each threshold of each period exactly once');
  t.match(delivered[0], { text: /^User "contractor1" has used \d+% of its (daily|monthly) AI budget: \$0\.\d\d of \$0\.01\.$/, event: 'budget_threshold', budget: { scope: 'user', name: 'contractor1', limit_usd: 0.01 } });
  t.equal(gw.logs.filter((l) => l.msg === 'budget threshold reached').length, 6, 'a log line per alert');
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.match(metrics, /gateway_budget_alerts_total\{scope="user",period="month",threshold="80"\} 1\n/);
  t.match(metrics, /gateway_budget_webhook_deliveries_total\{result="retry"\} 1\n/);

  const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: { 'x-workspace-id': 'ws-abc123' } })).json()) as { budgets: Array<Record<string, unknown>>; today: { user: { cost_usd: number } } };
  t.equal(usage.budgets.length, 2);
  t.match(usage.budgets[0], { scope: 'user', name: 'contractor1', period: 'day', action: 'alert', limit_usd: 0.01, remaining_usd: 0, resets_at: /T00:00:00\.000Z$/ });
  t.ok((usage.budgets[0].spent_usd as number) === 0.02, 'spent shown: 20 requests at $0.001');
  t.equal(usage.today.user.cost_usd, usage.budgets[0].spent_usd, '/v1/usage: today\'s cost agrees with the budget\'s spend');
});

t.test('an empty webhook url (an unset ${BUDGET_WEBHOOK_URL}) is no webhook: the gateway starts, alerts log and count', async (t) => {
  const gw = await startGateway(t, config(`  - name: auth
  - name: cost
  - name: budget
    config:
      users:
        contractor1: { daily_usd: 0.002, action: alert }
      webhook: { url: "" }
`, ECHO_PRICES));
  for (let i = 0; i < 3; i++) {
    const r = await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123' }, messages({ messages: [{ role: 'user', content: 'a twenty-char text!!' }] }));
    t.equal(r.status, 200);
  }
  t.ok(await waitFor(() => gw.logs.filter((l) => l.msg === 'budget threshold reached').length >= 3), 'the log line per threshold');
  await new Promise((r) => setTimeout(r, 100));
  t.same(gw.logs.filter((l) => /webhook/.test(String(l.msg))), [], 'no delivery tried');
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.match(metrics, /gateway_budget_alerts_total\{scope="user",period="day",threshold="100"\} 1\n/);
  t.notMatch(metrics, /gateway_budget_webhook_deliveries_total\{/);
});

t.test('a default_user budget counts each request once', async (t) => {
  const gw = await startGateway(t, config(`  - name: auth
  - name: cost
  - name: budget
    config:
      default_user: { daily_usd: 1 }
`, ECHO_PRICES));
  for (let i = 0; i < 3; i++) await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123' }, messages({ messages: [{ role: 'user', content: 'a twenty-char text!!' }] }));
  const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: { 'x-workspace-id': 'ws-abc123' } })).json()) as { budgets: Array<Record<string, unknown>> };
  t.match(usage.budgets, [{ scope: 'user', name: 'contractor1', period: 'day', spent_usd: 0.003, reserved_usd: 0 }], '3 requests at $0.001, each counted once');
});

t.test('thresholds fire again in the next period, never twice in one (store script)', async (t) => {
  const store = new MemoryStore();
  const keys = (p: string) => [`${p}:spent`, `${p}:held`, `${p}:fired`];
  const commit = (p: string, amount: number) => store.run(budgetScript, 'bg:u:x', keys(p), [Mode.Commit, amount, 0, 60_000, 60_000, 50, 80, 100]);
  t.match(commit('m:2026-11', 49), { firedBefore: 0, firedNow: 0 });
  t.match(commit('m:2026-11', 40), { firedBefore: 0, firedNow: 2 }, '50 and 80 at once');
  t.match(commit('m:2026-11', 1), { firedBefore: 2, firedNow: 2 });
  t.match(commit('m:2026-11', 20), { firedBefore: 2, firedNow: 3 }, '100');
  t.match(commit('m:2026-11', 20), { firedBefore: 3, firedNow: 3 }, 'nothing more this period');
  t.match(commit('m:2026-12', 60), { firedBefore: 0, firedNow: 1 }, 'a new period alerts again');
  const reserve = (amount: number) => store.run(reserveScript, 'bg:u:y', keys('d').slice(0, 2), [amount, 60_000, 100]);
  const peek = () => store.run(budgetScript, 'bg:u:y', keys('d'), [Mode.Peek]);
  t.match(reserve(60), { refused: 0 });
  t.match(peek(), { spent: 0, held: 60 });
  t.match(reserve(50), { refused: 1, spent: 0, held: 60 }, 'held reservations count against the limit');
  store.run(budgetScript, 'bg:u:y', keys('d'), [Mode.Commit, 30, 60, 60_000, 60_000]);
  t.match(reserve(50), { refused: 0 });
  t.match(peek(), { spent: 30, held: 50 }, 'the estimate released, the real cost kept');
});
