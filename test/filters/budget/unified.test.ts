/**
 * Budgets on the unified endpoint, whose route names no provider: the admission estimate
 * is priced with the provider the request goes to (it was always 0, so a worst case over
 * the budget went through where the pass-through refused it), and a model alias is priced,
 * budgeted and audited as the model it sends (it was priced as its own name: unpriced,
 * free, never budgeted).
 */
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { auditLines, waitFor } from '../fixtures.js';
import { json, ScriptedUpstream } from '../../proof/support/upstream.js';

const completion = (promptTokens: number, completionTokens: number): unknown => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-2024-08-06',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
});

async function start(t: { teardown(fn: () => unknown): void }, dailyUsd: number): Promise<{ url: string; upstream: ScriptedUpstream; audit: () => Array<Record<string, unknown>> }> {
  const upstream = await ScriptedUpstream.start();
  t.teardown(() => upstream.close());
  const gw = await startGateway(
    t,
    `providers:
  openai: { api_key: sk-budget-unified-0000, base_url: "${upstream.url}" }
models:
  aliases:
    fast: { provider: openai, model: gpt-4o }
filters:
  - name: auth
  - name: cost
  - name: budget
    config:
      users:
        alice: { daily_usd: ${dailyUsd} }
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 10 }
workspaces:
  ws-1: { user: alice, project: p }
`,
  );
  return { url: gw.url, upstream, audit: () => auditLines(path.join(gw.dir, 'audit.log')) };
}

const post = async (url: string, body: unknown): Promise<number> => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1' }, body: JSON.stringify(body) });
  await res.text();
  return res.status;
};

t.test('a worst case over the budget is refused on the unified endpoint as on the pass-through', async (t) => {
  const gw = await start(t, 1);
  // gpt-4o output is $10 a million: max_tokens 200,000 is a $2 worst case against $1.
  const body = { model: 'gpt-4o', max_tokens: 200_000, messages: [{ role: 'user', content: 'hi' }] };
  t.equal(await post(`${gw.url}/v1/openai/v1/chat/completions`, body), 403, 'the pass-through');
  t.equal(await post(`${gw.url}/v1/chat/completions`, body), 403, 'the unified endpoint');
  t.equal(gw.upstream.seen.length, 0, 'neither reached the upstream');
  t.equal(await post(`${gw.url}/v1/chat/completions`, { ...body, max_tokens: 1000 }), 200, 'a worst case within the budget goes');
});

t.test('an alias is priced, budgeted and audited as the model it sends', async (t) => {
  const gw = await start(t, 3);
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    // 400k in at $2.5/M and 100k out at $10/M: $2.00 a request.
    gw.upstream.script.push((_req, res) => json(res, 200, completion(400_000, 100_000)));
    statuses.push(await post(`${gw.url}/v1/chat/completions`, { model: 'fast', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }));
  }
  t.equal(JSON.parse(gw.upstream.seen[0].body.toString()).model, 'gpt-4o', 'the upstream was asked for gpt-4o');
  t.ok(await waitFor(() => gw.audit().length >= statuses.length));
  const line = gw.audit()[0];
  t.equal(line.model, 'gpt-4o', 'audited as gpt-4o');
  t.equal(line.cost_usd, 2, 'priced as gpt-4o');
  t.notOk(line.price_missing, 'not flagged unpriced');
  t.same(statuses, [200, 200, 403, 403], 'the $3 daily budget refuses once $4 is spent');
});
