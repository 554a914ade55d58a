/**
 * A model the price book has no price for costs nothing, so a budget never stops it. That
 * stays the default (`unpriced: allow`, flagged by `cost`); `unpriced: refuse` refuses such
 * a request wherever a `block` budget applies, and leaves callers without one alone; each
 * refusal counts in `gateway_budget_rejections_total{period="unpriced"}`.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { auditLines, config, messages, post, waitFor } from '../fixtures.js';

// A price book of its own (the shipped one prices every echo model at 0): echo-1 at $100/MTok
// both ways, echo-free not at all. 64 output tokens alone cost $0.0064, more than the day's budget.
const yaml = (unpriced: string) => config(`  - name: auth
  - name: cost
  - name: budget
    config:
${unpriced}      users:
        contractor1: { daily_usd: 0.005, action: block }
        admin: { daily_usd: 0.005, action: alert }
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 20 }
`, 'pricing:\n  file: ./prices.yaml\n').replace('models: [echo-1]', 'models: [echo-1, echo-free]');

function start(t: Test, unpriced: string) {
  const dir = tempDir('gw-unpriced-');
  writeFileSync(path.join(dir, 'prices.yaml'), 'providers:\n  echo:\n    models:\n      "echo-1": { input: 100, output: 100 }\n');
  return startGateway(t, yaml(unpriced), { dir });
}

const ask = (url: string, workspace: string, model: string, maxTokens = 64) => post(`${url}/v1/echo/v1/messages`, { 'x-workspace-id': workspace }, messages({ model, max_tokens: maxTokens }));

t.test('by default an unpriced model passes a block budget it would exceed (flagged, never reserved)', async (t) => {
  const gw = await start(t, '');
  t.equal((await ask(gw.url, 'ws-abc123', 'echo-1')).status, 403, 'the priced model is stopped by the budget');
  t.equal((await ask(gw.url, 'ws-abc123', 'echo-free')).status, 200, 'the unpriced model is not');
});

t.test('unpriced: refuse refuses an unpriced model where a block budget applies', async (t) => {
  const gw = await start(t, '      unpriced: refuse\n');
  const refused = await ask(gw.url, 'ws-abc123', 'echo-free');
  t.equal(refused.status, 403);
  t.equal(refused.headers.get('x-should-retry'), 'false', 'not retried by the SDKs');
  t.match(JSON.parse(refused.text), { type: 'error', error: { type: 'permission_error', message: /Model "echo-free" has no price .*unpriced: refuse/ } }, "in the route's dialect");
  t.equal((await ask(gw.url, 'ws-abc123', 'echo-1', 4)).status, 200, 'a priced model that fits is reserved and admitted as before');
  t.equal((await ask(gw.url, 'ws_under_score', 'echo-free')).status, 200, 'a caller with only an alert budget is not refused');

  const file = path.join(gw.dir, 'audit.log');
  t.ok(await waitFor(() => auditLines(file).length >= 3));
  t.match(auditLines(file)[0], { status: 403, error: 'GW_ERR_BUDGET_UNPRICED', replied_by: 'budget', model: 'echo-free' });
  t.ok(gw.logs.some((l) => l.msg === 'request refused by budget: unpriced model' && l.model === 'echo-free' && l.scope === 'user'), 'logged');
  // Counted with the spent-budget refusals, its own period value: the label set stays {scope, period}.
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.match(metrics, /gateway_budget_rejections_total\{scope="user",period="unpriced"\} 1\n/, 'counted once, under the caller\'s user budget');
  t.notMatch(metrics, /gateway_budget_rejections_total\{scope="user",period="day"\}/, 'not as a spent budget');
});

t.test('unpriced takes allow or refuse only', async (t) => {
  await t.rejects(start(t, '      unpriced: maybe\n'), /unpriced/);
});
