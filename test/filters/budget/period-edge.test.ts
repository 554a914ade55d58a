/**
 * A request reserved in one budget period and completed in the next (a stream running
 * across midnight UTC, or into a new month) is spent in the period it completed in: the
 * one its audit line, its ledger row and `/v1/usage`'s `today` count it in. Its estimate
 * is released where it was held.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { config, ECHO_PRICES, messages, post } from '../fixtures.js';

/** Wall-clock time shifted by `offset` ms: Date.now() and new Date() alike; timers untouched. */
const RealDate = Date;
let offset = 0;
class ShiftedDate extends RealDate {
  constructor(...args: ConstructorParameters<typeof Date> | []) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...(args as ConstructorParameters<typeof Date>));
  }
  static override now(): number {
    return RealDate.now() + offset;
  }
}

t.test('a stream that runs past midnight is spent in the period it ended in, as the ledger counts it', async (t) => {
  // 700 ms before the first of a month: the day and the month both turn during the stream.
  offset = RealDate.parse('2026-11-30T23:59:59.300Z') - RealDate.now();
  globalThis.Date = ShiftedDate as DateConstructor;
  t.teardown(() => {
    globalThis.Date = RealDate;
  });
  const gw = await startGateway(t, config(`  - name: auth
  - name: cost
  - name: budget
    config:
      users:
        contractor1: { daily_usd: 100, monthly_usd: 100 }
  - name: audit
    config: { stdout: false }
`, ECHO_PRICES).replace('stream_delay_ms: 5', 'stream_delay_ms: 150'));
  offset = RealDate.parse('2026-11-30T23:59:59.300Z') - RealDate.now();
  const r = await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123' }, messages({ stream: true, messages: [{ role: 'user', content: 'one two three four five six seven eight nine ten' }] }));
  t.equal(r.status, 200);
  t.ok(Date.now() >= RealDate.parse('2026-12-01T00:00:00.000Z'), 'the stream ended after midnight');

  const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: { 'x-workspace-id': 'ws-abc123' } })).json()) as {
    today: { since: string; user: { requests: number; cost_usd: number } };
    budgets: Array<{ period: string; spent_usd: number; reserved_usd: number; resets_at: string }>;
  };
  t.equal(usage.today.since, '2026-12-01T00:00:00.000Z');
  t.equal(usage.today.user.requests, 1, 'the audit filter counts the request on the day it ended');
  t.ok(usage.today.user.cost_usd > 0, 'and its cost');
  for (const b of usage.budgets) {
    t.match(b.resets_at, b.period === 'day' ? '2026-12-02T' : '2027-01-01T', `${b.period}: the new period`);
    t.equal(b.spent_usd, usage.today.user.cost_usd, `${b.period}: the budget spent what the audit line and the ledger count in this period`);
    t.equal(b.reserved_usd, 0, `${b.period}: nothing held`);
  }
});
