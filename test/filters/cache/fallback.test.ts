/**
 * An answer served by a fallback target (another provider instance, or another model of an
 * alias) is not stored: the key names the first choice (provider and model), and an entry
 * under it must be the first choice's answer. Before, the fallback's answer was stored
 * under the first choice's key, so once the first choice was back a later request was
 * served another provider's or model's answer for the TTL instead of the one it asked for.
 * Scripted upstreams record what reached them.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { ScriptedUpstream, json, status, type Seen } from '../../proof/support/upstream.js';

function completion(text: string, model: string): unknown {
  return { id: `chatcmpl-${text}`, object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } };
}

async function upstream(t: { teardown(fn: () => unknown): void }, name: string): Promise<ScriptedUpstream> {
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  // Answers name the upstream and the model they were asked for.
  for (let i = 0; i < 8; i++) up.script.push((_q, res, body) => json(res, 200, completion(`from-${name}`, modelSent(body))));
  return up;
}

const modelSent = (body: Buffer): string => String((JSON.parse(body.toString('utf8')) as { model?: unknown }).model);
const seenModel = (s: Seen | undefined): string | undefined => (s ? modelSent(s.body) : undefined);

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

t.test('unified endpoint: an alias answered by its fallback provider is not stored under the first choice', async (t) => {
  const a = await upstream(t, 'openai');
  const b = await upstream(t, 'mistral');
  const gw = await startGateway(t, `providers:
  openai: { api_key: sk-a, base_url: ${a.url} }
  mistral: { type: openai, api_key: sk-b, base_url: ${b.url}, model_patterns: ["mistral-*"] }
models:
  aliases:
    ha:
      targets:
        - { provider: openai, model: gpt-4o }
        - { provider: mistral, model: mistral-large }
${WORKSPACES}`);
  const chat = () => post(`${gw.url}/v1/chat/completions`, { model: 'ha', temperature: 0, messages: [{ role: 'user', content: 'hi' }] });
  a.script.unshift(status(503));
  const fallback = await chat();
  t.equal(fallback.status, 200, fallback.text);
  t.match(fallback.text, /from-mistral/, 'the first choice failed: the fallback served');
  t.equal(b.seen.length, 1);
  const back = await chat();
  t.equal(back.cache, 'MISS', "the fallback's answer was not stored under the first choice's key");
  t.match(back.text, /from-openai/, 'the first choice, back, serves');
  t.equal(a.seen.length, 2);
  const hit = await chat();
  t.equal(hit.cache, 'HIT', "the first choice's own answer is stored");
  t.match(hit.text, /from-openai/);
  t.equal(b.seen.length, 1);
});

t.test('unified endpoint: an alias answered by another model of the same provider is not stored either', async (t) => {
  const a = await upstream(t, 'openai');
  const gw = await startGateway(t, `providers:
  openai: { api_key: sk-a, base_url: ${a.url} }
models:
  aliases:
    ha:
      targets:
        - { provider: openai, model: gpt-4o }
        - { provider: openai, model: gpt-4o-mini }
${WORKSPACES}`);
  const chat = () => post(`${gw.url}/v1/chat/completions`, { model: 'ha', temperature: 0, messages: [{ role: 'user', content: 'hi' }] });
  a.script.unshift(status(503));
  const fallback = await chat();
  t.equal(fallback.status, 200, fallback.text);
  t.equal(seenModel(a.seen[1]), 'gpt-4o-mini', 'the fallback model served');
  const back = await chat();
  t.equal(back.cache, 'MISS', "gpt-4o-mini's answer is not gpt-4o's entry");
  t.equal(seenModel(a.seen[2]), 'gpt-4o');
  t.equal((await chat()).cache, 'HIT');
  t.equal(a.seen.length, 3);
});

t.test('pass-through route: an answer from the backup instance is not stored under the primary', async (t) => {
  const a = await upstream(t, 'primary');
  const b = await upstream(t, 'backup');
  const gw = await startGateway(t, `providers:
  primary: { type: openai, api_key: sk-a, base_url: ${a.url} }
  backup: { type: openai, api_key: sk-b, base_url: ${b.url} }
routes:
  - name: oai
    match: { prefix: /v1/oai }
    targets:
      - { provider: primary }
      - { provider: backup }
${WORKSPACES}`);
  const chat = () => post(`${gw.url}/v1/oai/v1/chat/completions`, { model: 'gpt-4o', temperature: 0, messages: [{ role: 'user', content: 'hi' }] });
  a.script.unshift(status(503));
  const fallback = await chat();
  t.equal(fallback.status, 200, fallback.text);
  t.match(fallback.text, /from-backup/);
  const back = await chat();
  t.equal(back.cache, 'MISS', "the backup's answer was not stored as the primary's");
  t.match(back.text, /from-primary/);
  const hit = await chat();
  t.equal(hit.cache, 'HIT');
  t.match(hit.text, /from-primary/);
  t.equal(b.seen.length, 1);
});

t.test('pass-through route: the first choice is the target tried first by priority, not the first listed', async (t) => {
  // Before, the route's provider (the key's first choice) was the first listed target, b,
  // while the resilience layer always tried a first: every answer counted as a fallback's
  // and nothing on such a route was ever stored.
  const a = await upstream(t, 'a');
  const b = await upstream(t, 'b');
  const gw = await startGateway(t, `providers:
  a: { type: openai, api_key: sk-a, base_url: ${a.url} }
  b: { type: openai, api_key: sk-b, base_url: ${b.url} }
routes:
  - name: oai
    match: { prefix: /v1/oai }
    targets:
      - { provider: b, priority: 2 }
      - { provider: a, priority: 1 }
${WORKSPACES}`);
  const chat = () => post(`${gw.url}/v1/oai/v1/chat/completions`, { model: 'gpt-4o', temperature: 0, messages: [{ role: 'user', content: 'hi' }] });
  const first = await chat();
  t.equal(first.cache, 'MISS');
  t.match(first.text, /from-a/, 'a, the lower priority, serves');
  const hit = await chat();
  t.equal(hit.cache, 'HIT', "a's answer was stored under the route's first choice");
  t.match(hit.text, /from-a/);
  t.equal(a.seen.length, 1);
  t.equal(b.seen.length, 0);
});
