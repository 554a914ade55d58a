/**
 * The cache on the unified endpoint (`/v1/chat/completions`): the key names the provider
 * that serves the request (chosen by model or `X-Provider`, not the route's), and what an
 * alias resolves to, so a reload that re-points an alias does not replay the old target's
 * answer. Two scripted OpenAI-compatible upstreams record what reached them.
 */
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { ScriptedUpstream, json, type Seen } from '../../proof/support/upstream.js';

function completion(text: string): unknown {
  return { id: `chatcmpl-${text}`, object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } };
}

async function upstreams(t: { teardown(fn: () => unknown): void }): Promise<[ScriptedUpstream, ScriptedUpstream]> {
  const a = await ScriptedUpstream.start();
  const b = await ScriptedUpstream.start();
  t.teardown(() => a.close());
  t.teardown(() => b.close());
  // More answers than any test asks for; each upstream names itself in its text.
  for (let i = 0; i < 8; i++) {
    a.script.push((_q, res) => json(res, 200, completion('from-openai')));
    b.script.push((_q, res) => json(res, 200, completion('from-mistral')));
  }
  return [a, b];
}

const config = (a: string, b: string, models = ''): string => `providers:
  openai: { api_key: sk-a, base_url: ${a} }
  mistral: { type: openai, api_key: sk-b, base_url: ${b}, model_patterns: ["mistral-*"] }
${models}filters:
  - name: auth
  - name: cache
workspaces:
  ws-1: { user: alice }
`;

async function chat(url: string, model: string, headers: Record<string, string> = {}): Promise<{ cache: string | null; text: string }> {
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1', ...headers }, body: JSON.stringify({ model, temperature: 0, messages: [{ role: 'user', content: 'hi' }] }) });
  return { cache: res.headers.get('x-cache'), text: await res.text() };
}

const modelSent = (s: Seen | undefined): unknown => (s ? (JSON.parse(s.body.toString('utf8')) as { model?: unknown }).model : undefined);

t.test('X-Provider: the same body for another provider is that provider\'s answer, not the cached one', async (t) => {
  const [a, b] = await upstreams(t);
  const gw = await startGateway(t, config(a.url, b.url));
  const first = await chat(gw.url, 'gpt-4o', { 'x-provider': 'openai' });
  t.equal(first.cache, 'MISS');
  t.match(first.text, /from-openai/);
  const other = await chat(gw.url, 'gpt-4o', { 'x-provider': 'mistral' });
  t.equal(other.cache, 'MISS', 'another provider: another entry');
  t.match(other.text, /from-mistral/);
  t.equal(b.seen.length, 1, 'the request for mistral reached mistral');
  const again = await chat(gw.url, 'gpt-4o', { 'x-provider': 'openai' });
  t.equal(again.cache, 'HIT', 'the first provider still has its entry');
  t.match(again.text, /from-openai/);
  t.equal(a.seen.length, 1);
});

t.test('a reload that re-points an alias to another model of the same provider is a miss', async (t) => {
  const [a, b] = await upstreams(t);
  const alias = (model: string): string => `models:\n  aliases:\n    fast: { provider: openai, model: ${model} }\n`;
  const gw = await startGateway(t, config(a.url, b.url, alias('gpt-4o-mini')));
  t.equal((await chat(gw.url, 'fast')).cache, 'MISS');
  t.equal(modelSent(a.seen[0]), 'gpt-4o-mini');
  t.equal((await chat(gw.url, 'fast')).cache, 'HIT', 'the alias is cached like any model');

  writeFileSync(gw.configPath, config(a.url, b.url, alias('gpt-4o')));
  const r = await gw.gateway.reload();
  t.ok(r.ok, 'reloaded');
  t.equal((await chat(gw.url, 'fast')).cache, 'MISS', 'the alias now names another model: the old answer is not served');
  t.equal(a.seen.length, 2);
  t.equal(modelSent(a.seen[1]), 'gpt-4o');
  t.equal((await chat(gw.url, 'gpt-4o-mini')).cache, 'MISS', 'the old target by its own name is its own entry');
});
