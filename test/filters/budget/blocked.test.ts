import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { auditLines, config, ECHO_PRICES, post, waitFor } from '../fixtures.js';

const PROVIDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'openai-chat-provider.ts');

const yaml = `providers:
  echo: { models: [echo-1] }
  oai: { plugin: ${PROVIDER}, prefix: /v1/oai }
filters:
  - name: auth
  - name: cost
  - name: budget
    config:
      projects:
        webide: { monthly_usd: 0.0002, action: block }
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 20 }
workspaces:
  ws-abc123: { user: contractor1, project: webide }
pricing:
  providers:
    echo: { models: { "echo-1": { input: 3, output: 15 } } }
    oai: { models: { "gpt-4.1": { input: 2, output: 8 } } }
`;

t.test('a spent budget: 403 the real Anthropic SDK does not retry, OpenAI insufficient_quota', async (t) => {
  const gw = await startGateway(t, yaml);
  const file = path.join(gw.dir, 'audit.log');
  // The SDK's default: up to 2 retries, for 408, 409, 429 and 5xx unless x-should-retry says otherwise.
  const client = new Anthropic({ baseURL: `${gw.url}/v1/echo`, apiKey: 'placeholder', defaultHeaders: { 'x-workspace-id': 'ws-abc123' } });
  const create = (maxTokens: number) => client.messages.create({ model: 'echo-1', max_tokens: maxTokens, messages: [{ role: 'user', content: 'hi' }] });
  const first = await create(4);
  t.equal(first.type, 'message', 'the first request fits: about $0.0001 reserved of $0.0002, $0.000018 spent');
  // 64 output tokens at $15/MTok alone would pass the limit: refused before the call.
  const err = await create(64).catch((e: unknown) => e);
  t.ok(err instanceof Anthropic.PermissionDeniedError, 'the SDK raises PermissionDeniedError');
  const e = err as InstanceType<typeof Anthropic.APIError>;
  t.equal(e.status, 403);
  t.equal(e.headers?.get('x-should-retry'), 'false');
  t.match(e.error, { type: 'error', error: { type: 'permission_error', message: /monthly budget of project "webide"/ } });
  t.ok(await waitFor(() => auditLines(file).length >= 2));
  await new Promise((r) => setTimeout(r, 300));
  const lines = auditLines(file);
  t.equal(lines.length, 2, 'exactly one request reached the gateway for the blocked call: no SDK retry');
  t.match(lines[1], { status: 403, error: 'GW_ERR_BUDGET_EXCEEDED', replied_by: 'budget', cost_usd: 0 });

  const res = await fetch(`${gw.url}/v1/oai/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-abc123' }, body: JSON.stringify({ model: 'gpt-4.1', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }) });
  t.equal(res.status, 403, 'never a bare 429');
  t.equal(res.headers.get('x-should-retry'), 'false');
  t.match(await res.json(), { error: { type: 'insufficient_quota', code: 'insufficient_quota', message: /budget/ } }, "OpenAI's dialect");
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.match(metrics, /gateway_budget_rejections_total\{scope="project",period="month"\} 2\n/);
});

t.test('budgets reload with the config; spend survives the reload', async (t) => {
  const gw = await startGateway(t, yaml);
  const send = (maxTokens = 64) => fetch(`${gw.url}/v1/echo/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-abc123' }, body: JSON.stringify({ model: 'echo-1', max_tokens: maxTokens, messages: [{ role: 'user', content: 'hi' }] }) });
  t.equal((await send(4)).status, 200);
  t.equal((await send()).status, 403);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(gw.configPath, yaml.replace('monthly_usd: 0.0002', 'monthly_usd: 1'));
  t.ok((await gw.gateway.reload()).ok);
  t.equal((await send()).status, 200, 'a raised budget applies at once');
  const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: { 'x-workspace-id': 'ws-abc123' } })).json()) as { budgets: Array<{ limit_usd: number; spent_usd: number; remaining_usd: number }> };
  t.equal(usage.budgets[0].limit_usd, 1);
  t.ok(usage.budgets[0].spent_usd >= 0.000036, 'what was spent before the reload still counts');
  t.equal(usage.budgets[0].remaining_usd, Math.round((1 - usage.budgets[0].spent_usd) * 1e9) / 1e9);
});

t.test("a later group's refusal names its own budget, and the groups that admitted hand back", async (t) => {
  const gw = await startGateway(t, config(`  - name: auth
  - name: cost
  - name: budget
    config:
      users:
        contractor1: { daily_usd: 1000, monthly_usd: 1000 }
      projects:
        webide: { monthly_usd: 0 }
`, ECHO_PRICES));
  const res = await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123' });
  t.equal(res.status, 403);
  t.match((JSON.parse(res.text) as { error: { message: string } }).error.message, /monthly budget of project "webide"/, "the project's group refused, after the user's admitted");
  const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: { 'x-workspace-id': 'ws-abc123' } })).json()) as { budgets: Array<{ scope: string; period: string; reserved_usd: number; spent_usd: number }> };
  t.same(usage.budgets.map((b) => [b.scope, b.period, b.reserved_usd, b.spent_usd]), [['user', 'day', 0, 0], ['user', 'month', 0, 0], ['project', 'month', 0, 0]], "the user's day and month hold nothing");
});
