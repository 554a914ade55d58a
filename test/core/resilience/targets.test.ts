/**
 * Fallbacks and weighted balancing: a pass-through route over two instances of one
 * provider type, and a model alias over two providers on the unified endpoint. The audit
 * line and the outcome say which target served and after how many attempts.
 */
import t from 'tap';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { anthropicEntry, send, startMocks, startResilient } from '../../helpers/resilience.js';
import { startGateway } from '../../helpers/gateway.js';
import { metric, waitFor } from '../../helpers/live.js';

const route = (targets: string) => `routes:
  - name: claude
    match: { prefix: /v1/claude }
    targets:
${targets}`;
const ORDERED = route('      - { provider: primary }\n      - { provider: backup }');

t.test('fallback: the primary answers 503, the backup serves; the audit line says so', async (t) => {
  const [a, b] = await startMocks(t, 'primary', 'backup');
  a.fallback = { kind: 'status', status: 503 };
  const gw = await startResilient(t, [anthropicEntry('primary', a.url), anthropicEntry('backup', b.url)], ORDERED);
  const res = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(res.status, 200);
  t.match(JSON.parse(res.text), { content: [{ text: 'from backup' }] });
  t.equal(a.hits, 1);
  t.equal(b.hits, 1);
  t.match((await outcomeFor(res.id)).outcome, { status: 200, provider: 'primary', target: 'backup', attempts: 2 });
  const line = await waitFor(() => gw.audit().find((l) => l.request_id === res.id));
  t.match(line, { provider: 'primary', target: 'backup', attempts: 2, status: 200 });
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.equal(metric(metrics, 'gateway_upstream_fallbacks_total{from="primary",to="backup"}'), 1);
});

t.test('fallback: an unreachable primary, and retries on it before falling back', async (t) => {
  const [b] = await startMocks(t, 'backup');
  const primary = anthropicEntry('primary', 'http://127.0.0.1:9', '    resilience:\n      retry: { retries: 1, base_ms: 10 }');
  const gw = await startResilient(t, [primary, anthropicEntry('backup', b.url)], ORDERED);
  const res = await send(`${gw.url}/v1/claude/v1/messages`, { stream: true });
  t.equal(res.status, 200);
  t.match(res.text, /"text":"backup"/);
  t.match((await outcomeFor(res.id)).outcome, { target: 'backup', attempts: 3 }, 'two on the primary, one on the backup');
});

t.test('fallback: an open breaker skips the primary without an attempt', async (t) => {
  const [a, b] = await startMocks(t, 'primary', 'backup');
  a.fallback = { kind: 'status', status: 500 };
  const primary = anthropicEntry('primary', a.url, '    resilience:\n      breaker: { consecutive_failures: 1, cooldown_ms: 60000 }');
  const gw = await startResilient(t, [primary, anthropicEntry('backup', b.url)], ORDERED);
  const first = await send(`${gw.url}/v1/claude/v1/messages`);
  t.match((await outcomeFor(first.id)).outcome, { status: 200, target: 'backup', attempts: 2 });
  const second = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(second.status, 200);
  t.equal(a.hits, 1, 'the primary was not tried again');
  t.match((await outcomeFor(second.id)).outcome, { status: 200, target: 'backup', attempts: 1 });
});

t.test('a primary without its key is skipped, not a 503 for the whole route', async (t) => {
  const [b] = await startMocks(t, 'backup');
  const keyless = anthropicEntry('primary', 'http://127.0.0.1:9').replace('api_key: sk-test', 'api_key: ""');
  const gw = await startResilient(t, [keyless, anthropicEntry('backup', b.url)], ORDERED);
  const res = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(res.status, 200);
  t.match((await outcomeFor(res.id)).outcome, { target: 'backup', attempts: 1 });
});

t.test('no fallback on an answer that is not retryable', async (t) => {
  const [a, b] = await startMocks(t, 'primary', 'backup');
  a.script.push({ kind: 'status', status: 400 });
  const gw = await startResilient(t, [anthropicEntry('primary', a.url), anthropicEntry('backup', b.url)], ORDERED);
  const res = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(res.status, 400);
  t.equal(b.hits, 0);
});

t.test('every target failing: the last answer goes back to the client', async (t) => {
  const [a, b] = await startMocks(t, 'primary', 'backup');
  a.fallback = { kind: 'status', status: 503 };
  b.fallback = { kind: 'status', status: 529 };
  const gw = await startResilient(t, [anthropicEntry('primary', a.url), anthropicEntry('backup', b.url)], ORDERED);
  const res = await send(`${gw.url}/v1/claude/v1/messages`);
  t.equal(res.status, 529);
  t.match(JSON.parse(res.text), { error: { message: 'backup says 529' } });
  t.match((await outcomeFor(res.id)).outcome, { status: 529, target: 'backup', attempts: 2 });
});

t.test('a model alias on the unified endpoint falls back to a second provider with its own model id', async (t) => {
  const [a, b] = await startMocks(t, 'primary', 'backup');
  a.fallback = { kind: 'status', status: 529 };
  const gw = await startResilient(
    t,
    [anthropicEntry('primary', a.url), anthropicEntry('backup', b.url)],
    `models:
  aliases:
    claude-ha:
      targets:
        - { provider: primary, model: claude-sonnet-4-5 }
        - { provider: backup, model: claude-haiku-4-5 }`,
  );
  const res = await send(`${gw.url}/v1/chat/completions`, { model: 'claude-ha', messages: [{ role: 'user', content: 'hi' }] });
  t.equal(res.status, 200);
  t.match(JSON.parse(res.text), { object: 'chat.completion', model: 'claude-haiku-4-5', choices: [{ message: { content: 'from backup' } }] });
  t.match((await outcomeFor(res.id)).outcome, { status: 200, provider: 'primary', target: 'backup', attempts: 2, model: 'claude-haiku-4-5' }, 'the model of the target that answered');
  const models = (await (await fetch(`${gw.url}/v1/models`)).json()) as { data: Array<{ id: string; owned_by: string }> };
  t.match(models.data.find((m) => m.id === 'claude-ha'), { owned_by: 'primary' }, 'the alias is listed');
});

t.test('after fallbacks, a target without its own model is audited as the model it was sent', async (t) => {
  const [a, b, c] = await startMocks(t, 'first', 'second', 'third');
  a.fallback = { kind: 'status', status: 529 };
  b.fallback = { kind: 'status', status: 503 };
  const gw = await startResilient(
    t,
    [anthropicEntry('first', a.url), anthropicEntry('second', b.url), anthropicEntry('third', c.url)],
    `models:
  aliases:
    smart:
      targets:
        - { provider: first, model: claude-sonnet-4-5 }
        - { provider: second, model: claude-haiku-4-5 }
        - { provider: third }`,
  );
  const res = await send(`${gw.url}/v1/chat/completions`, { model: 'smart', messages: [{ role: 'user', content: 'hi' }] });
  t.equal(res.status, 200);
  // The mock answers with the model it was sent: a target without one gets the alias's first.
  t.match(JSON.parse(res.text), { model: 'claude-sonnet-4-5', choices: [{ message: { content: 'from third' } }] });
  t.match((await outcomeFor(res.id)).outcome, { target: 'third', attempts: 3, model: 'claude-sonnet-4-5' }, 'priced and audited as the model sent, not the previous target\'s');
});

t.test('weighted balancing: 3:1 over 400 requests, within tolerance', async (t) => {
  const [a, b] = await startMocks(t, 'three', 'one');
  const gw = await startResilient(t, [anthropicEntry('three', a.url), anthropicEntry('one', b.url)], route('      - { provider: three, weight: 3, priority: 0 }\n      - { provider: one, weight: 1, priority: 0 }'));
  for (let i = 0; i < 50; i++) {
    const batch = await Promise.all(Array.from({ length: 8 }, () => send(`${gw.url}/v1/claude/v1/messages`)));
    if (batch.some((r) => r.status !== 200)) t.fail('a request failed');
  }
  t.equal(a.hits + b.hits, 400);
  // Expected 300 / 100; one standard deviation is under 9, so ±45 is five.
  t.ok(a.hits >= 255 && a.hits <= 345, `the weight-3 target took ${a.hits} of 400`);
});

t.test('weighted targets back each other up', async (t) => {
  const [a, b] = await startMocks(t, 'three', 'one');
  a.fallback = { kind: 'status', status: 503 };
  const gw = await startResilient(t, [anthropicEntry('three', a.url), anthropicEntry('one', b.url)], route('      - { provider: three, weight: 3, priority: 0 }\n      - { provider: one, weight: 1, priority: 0 }'));
  const answers = await Promise.all(Array.from({ length: 20 }, () => send(`${gw.url}/v1/claude/v1/messages`)));
  t.ok(answers.every((r) => r.status === 200), 'all served');
  t.equal(b.hits, 20);
  t.ok(a.hits > 5, `most went to the weight-3 target first (${a.hits})`);
});

t.test('config: targets are checked against the providers when the config loads', async (t) => {
  const [a] = await startMocks(t, 'a');
  const providers = `providers:\n${anthropicEntry('primary', a.url)}\n  echo:\n    models: [echo-1]\n`;
  await t.rejects(startGateway(t, providers + route('      - { provider: primary }\n      - { provider: nowhere }')), /target 1 names provider "nowhere"/);
  await t.rejects(startGateway(t, providers + route('      - { provider: primary }\n      - { provider: echo }')), /same API/);
  await t.rejects(startGateway(t, providers + route('      - { provider: primary, model: x }')), /"model" applies to model alias targets/);
  await t.rejects(startGateway(t, providers + 'models:\n  aliases:\n    x: { provider: primary, model: y, targets: [{ provider: primary }] }\n'), /must match exactly one schema/);
});
