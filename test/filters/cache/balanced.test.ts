/**
 * Weighted balancing (targets sharing the lowest priority): each target's answers are
 * stored under its own key (its instance, config digest and, for an alias, model), and a
 * lookup asks every such target's key, so whichever instance answered first serves the
 * repeat, as that instance's answer. Before, the key named only the first-listed target:
 * answers drawn to any other were never stored, and their repeats went upstream each time.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { ScriptedUpstream, json } from '../../proof/support/upstream.js';

async function upstream(t: { teardown(fn: () => unknown): void }, name: string): Promise<ScriptedUpstream> {
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  for (let i = 0; i < 60; i++) {
    up.script.push((_q, res, body) => {
      const model = String((JSON.parse(body.toString('utf8')) as { model?: unknown }).model);
      json(res, 200, { id: `chatcmpl-${name}`, object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: `from-${name}` }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
    });
  }
  return up;
}

const WORKSPACES = `filters:
  - name: auth
  - name: cache
workspaces:
  ws-1: { user: alice }
`;

async function post(url: string, body: unknown): Promise<{ status: number; cache: string | null; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1', 'x-gateway-cache': 'on' }, body: JSON.stringify(body) });
  return { status: res.status, cache: res.headers.get('x-cache'), text: await res.text() };
}

/** Distinct questions until each of `names` has answered one; the question each answered. */
async function drawEach(t: { same(a: unknown, b: unknown, m: string): unknown }, ask: (q: string) => Promise<{ text: string }>, names: string[]): Promise<Map<string, string>> {
  const answered = new Map<string, string>();
  for (let i = 0; i < 40 && answered.size < names.length; i++) {
    const q = `question ${i}`;
    const from = /from-([a-z]+)/.exec((await ask(q)).text)?.[1];
    if (from && !answered.has(from)) answered.set(from, q);
  }
  t.same([...answered.keys()].sort(), [...names].sort(), 'balancing drew every target');
  return answered;
}

t.test("pass-through route: each balanced instance's answers are stored and served", async (t) => {
  const a = await upstream(t, 'a');
  const b = await upstream(t, 'b');
  const gw = await startGateway(t, `providers:
  a: { type: openai, api_key: sk-a, base_url: ${a.url} }
  b: { type: openai, api_key: sk-b, base_url: ${b.url} }
routes:
  - name: oai
    match: { prefix: /v1/oai }
    targets:
      - { provider: a, priority: 0 }
      - { provider: b, priority: 0 }
${WORKSPACES}`);
  const ask = (q: string) => post(`${gw.url}/v1/oai/v1/chat/completions`, { model: 'gpt-4o', temperature: 0, messages: [{ role: 'user', content: q }] });
  const drawn = await drawEach(t, ask, ['a', 'b']);
  const calls = a.seen.length + b.seen.length;
  for (const [name, q] of drawn) {
    const again = await ask(q);
    t.equal(again.cache, 'HIT', `${name}'s answer was stored`);
    t.match(again.text, `from-${name}`, `and served as ${name}'s`);
  }
  t.equal(a.seen.length + b.seen.length, calls, 'no repeat went upstream');
});

t.test("unified endpoint: an alias's balanced targets each fill their own entries (provider and model)", async (t) => {
  const a = await upstream(t, 'openai');
  const b = await upstream(t, 'mistral');
  const gw = await startGateway(t, `providers:
  openai: { api_key: sk-a, base_url: ${a.url} }
  mistral: { type: openai, api_key: sk-b, base_url: ${b.url}, model_patterns: ["mistral-*"] }
models:
  aliases:
    ha:
      targets:
        - { provider: openai, model: gpt-4o, priority: 0 }
        - { provider: mistral, model: mistral-large, priority: 0 }
${WORKSPACES}`);
  const ask = (q: string) => post(`${gw.url}/v1/chat/completions`, { model: 'ha', temperature: 0, messages: [{ role: 'user', content: q }] });
  const drawn = await drawEach(t, ask, ['openai', 'mistral']);
  const calls = a.seen.length + b.seen.length;
  for (const [name, q] of drawn) {
    const again = await ask(q);
    t.equal(again.cache, 'HIT', `${name}'s answer was stored`);
    t.match(again.text, `from-${name}`);
  }
  t.equal(a.seen.length + b.seen.length, calls, 'no repeat went upstream');
});
