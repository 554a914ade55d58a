/**
 * The dashboard's budget table shows the budgets the budget filter applies: besides the
 * global, user and project entries, `default_user` and `default_project` for each user or
 * project without an entry that spent under them this period, as /v1/usage shows them.
 */
import path from 'node:path';
import t from 'tap';
import { budgetViews } from '../../../filters/admin/summary.js';
import budgetPlugin from '../../../filters/budget/index.js';
import type { BudgetConfig } from '../../../filters/budget/config.js';
import { compileSchema } from '../../../core/config/ajv.js';
import { SqliteLedger } from '../../../filters/cost/ledger/sqlite.js';
import type { LedgerRow } from '../../../filters/cost/ledger/types.js';
import { startGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { SEED, TOKEN } from './setup.js';

const CONFIG = `providers:
  echo:
    models: [echo-1]
filters:
  - name: admin
    config:
      token: "${TOKEN}"
  - name: auth
  - name: cost
    config:
      ledger: { type: sqlite, dir: ./data, flush_interval_ms: 50 }
  - name: budget
    config:
      default_user: { daily_usd: 0.15 }
      default_project: { monthly_usd: 2 }
      projects:
        webide: { monthly_usd: 10 }
workspaces:
  ws-bob: { user: bob, project: research }
`;

interface View { scope: string; name: string; period: string; spent_usd: number; default?: boolean }

t.test('default_user and default_project budgets are on the dashboard', async (t) => {
  const dir = tempDir('gw-budget-');
  const ledger = new SqliteLedger(path.join(dir, 'data', 'ledger.sqlite'));
  await ledger.add(SEED);
  await ledger.close();
  const gw = await startGateway(t, CONFIG, { dir });
  const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: { 'x-workspace-id': 'ws-bob' } })).json()) as { budgets: View[] };
  const summary = (await (await fetch(`${gw.url}/admin/summary`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { budgets: View[] };
  const key = (b: View) => `${b.scope} ${b.name} ${b.period}`;
  t.same(usage.budgets.map(key).sort(), ['project research month', 'user bob day']);
  const shown = summary.budgets.map(key);
  for (const k of usage.budgets.map(key)) t.ok(shown.includes(k), `${k}: the budget bob's /v1/usage shows is on the dashboard`);
  const bob = summary.budgets.find((b) => key(b) === 'user bob day')!;
  t.equal(bob.spent_usd, 0.1, 'bob spent $0.10 today (the seed)');
  t.equal(bob.default, true, 'marked as the default budget');
  t.same(summary.budgets.filter((b) => b.name === 'webide').map((b) => [key(b), b.default]), [['project webide month', undefined]], 'a project with an entry has its own budget only');
});

const config = (c: Record<string, unknown>): BudgetConfig => {
  const out = structuredClone(c);
  compileSchema(budgetPlugin.configSchema ?? {})(out);
  return out as unknown as BudgetConfig;
};

const row = (day: string, user: string, project: string, usd: number): LedgerRow => ({
  day, user, workspace: '', project, provider: 'p', model: 'm', requests: 1, errors: 0, tokens_in: 0, tokens_out: 0, cache_creation_tokens: 0, cache_read_tokens: 0, cost_nanos: Math.round(usd * 1e9), unpriced: 0,
});

t.test('budgetViews: which users and projects a default budget shows', async (t) => {
  const now = Date.UTC(2026, 11, 15, 12);
  const rows = [
    row('2026-12-15', 'ann', 'p1', 1),
    row('2026-12-10', 'ben', 'p1', 2), // this month, not today
    row('2026-11-30', 'cat', 'p2', 5), // last month
    row('2026-12-15', 'dan', '', 0), // seen, spent nothing
    row('2026-12-15', '', '', 0.5), // no user: the budget filter's anonymous_user
    row('2026-12-15', 'vip', 'p1', 3),
  ];
  const views = budgetViews(config({ default_user: { daily_usd: 10, monthly_usd: 100 }, users: { vip: { daily_usd: 50 } } }), rows, now);
  const names = (period: string) => views.filter((v) => v.scope === 'user' && v.period === period).map((v) => `${v.name}${v.default ? '*' : ''}:${v.spent_usd}`).sort();
  t.same(names('day'), ['ann*:1', 'anonymous*:0.5', 'vip:3'], 'today: those who spent today; vip has its own');
  t.same(names('month'), ['ann*:1', 'anonymous*:0.5', 'ben*:2'], 'this month: those who spent this month (not dan, nor vip: an entry replaces the default)');

  const many = Array.from({ length: 50 }, (_, i) => row('2026-12-15', `u${i}`, '', i + 1));
  const capped = budgetViews(config({ default_user: { daily_usd: 100 } }), many, now);
  t.equal(capped.length, 20, 'at most 20 rows per default budget');
  t.equal(capped[0].name, 'u49', 'those nearest their limit first');
  t.same(budgetViews(config({ default_project: { monthly_usd: 10 } }), rows, now).map((v) => `${v.name}:${v.spent_usd}`), ['p1:6'], 'projects likewise; rows without a project are none');
});
