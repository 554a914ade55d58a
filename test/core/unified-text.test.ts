/**
 * Prompts outside ASCII through the unified endpoint. Anthropic and OpenAI take the request
 * as its shape (strings as UTF-8 bytes, never decoded); what reaches them must be exactly
 * what translating the decoded text would send, whichever way the client wrote its text
 * (raw UTF-8 as JS clients do, `\u` escapes as Python's json.dumps does).
 */
import t from 'tap';
import { exactJson } from '../../core/json-body.js';
import { openAIToAnthropicRequest, type OpenAIChatRequest } from '../../providers/translate/openai-anthropic/index.js';
import { call } from '../helpers/http.js';
import { outcomeFor } from '../helpers/outcome-recorder.js';
import { startUnified } from '../helpers/unified.js';

const setup = await startUnified(t);

const PROMPT = 'Résumé → ✓, 中文, 😀; “quoted” — and a tab\t';

function chat(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model,
    messages: [
      { role: 'system', content: 'Réponds en français.' },
      { role: 'user', content: [{ type: 'text', text: PROMPT }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lire', arguments: '{"chemin":"/tmp/é.txt"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'contenu: ça marche ✓' },
    ],
    tools: [{ type: 'function', function: { name: 'lire', description: 'Lit un fichier…', parameters: { type: 'object', properties: { chemin: { type: 'string' } } } } }],
    user: 'développeur-1',
    ...extra,
  };
}

/** `json` as Python's json.dumps writes it: every character outside ASCII as `\u` escapes. */
function asciiEscaped(json: string): string {
  return json.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

for (const [how, encode] of [
  ['raw UTF-8', (json: string) => json],
  ['escaped as Python writes it', asciiEscaped],
] as const) {
  t.test(`Anthropic receives the translation of the text, ${how}`, async (t) => {
    const body = Buffer.from(encode(JSON.stringify(chat('claude-sonnet-4-5'))));
    const res = await call(`${setup.gw.url}/v1/chat/completions`, { body });
    t.equal(res.status, 200, res.text);
    const expected = Buffer.from(JSON.stringify(openAIToAnthropicRequest(exactJson(body) as OpenAIChatRequest, { defaultMaxTokens: 2048 })));
    t.equal(setup.anthropic.last!.body.toString('utf8'), expected.toString('utf8'), 'the bytes the decoded text would give');
    t.ok(setup.anthropic.last!.body.equals(expected));
    t.equal(JSON.parse(setup.anthropic.last!.body.toString('utf8')).messages[0].content[0].text, PROMPT);
  });

  t.test(`OpenAI receives the client's bytes, or its request renamed by an alias, ${how}`, async (t) => {
    const body = Buffer.from(encode(JSON.stringify(chat('gpt-4o'))));
    t.equal((await call(`${setup.gw.url}/v1/chat/completions`, { body })).status, 200);
    t.ok(setup.openai.last!.body.equals(body), 'as sent');
    const aliased = Buffer.from(encode(JSON.stringify(chat('fast'))));
    t.equal((await call(`${setup.gw.url}/v1/chat/completions`, { body: aliased })).status, 200);
    t.same(JSON.parse(setup.openai.last!.body.toString('utf8')), { ...chat('gpt-4o-mini') }, 'renamed, its text intact');
  });
}

t.test('a model named outside ASCII is chosen and recorded by its text', async (t) => {
  const body = Buffer.from(JSON.stringify(chat('claude-modèle-✓')));
  const res = await call(`${setup.gw.url}/v1/chat/completions`, { body });
  t.equal(res.status, 200, res.text);
  t.equal(JSON.parse(setup.anthropic.last!.body.toString('utf8')).model, 'claude-modèle-✓', 'sent upstream as named');
  const recorded = await outcomeFor(String(res.headers['x-request-id']));
  t.equal(recorded.model, 'claude-modèle-✓', 'the request is recorded under its model');
  t.equal(recorded.outcome.provider, 'anthropic');
});

t.test('a refusal quotes the client\'s text as sent', async (t) => {
  const body = Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'rôle', content: 'é' }] }));
  const res = await call(`${setup.gw.url}/v1/chat/completions`, { body });
  t.equal(res.status, 400);
  t.equal(res.json<{ error: { message: string } }>().error.message, 'message role `rôle` is not supported');
});

t.test('a long prompt is sent as the client wrote it: its literal copied, not escaped again', async (t) => {
  // Long enough for the body scanner (8 KiB); `\/` and `\u0041` are escapes JSON.stringify never writes.
  const prompt = 'see src\\/index.ts \\u0041 — “café” → 😀\\n'.repeat(400);
  const json = `{"model":"claude-sonnet-4-5","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"${prompt}"}]}`;
  const res = await call(`${setup.gw.url}/v1/chat/completions`, { body: Buffer.from(json) });
  t.equal(res.status, 200, res.text);
  const sent = setup.anthropic.last!.body.toString('utf8');
  const expected = openAIToAnthropicRequest(exactJson(Buffer.from(json)) as OpenAIChatRequest, { defaultMaxTokens: 2048 });
  t.same(JSON.parse(sent), expected, 'the translation of the text');
  t.ok(sent.includes(`"text":"${prompt}"`), "the prompt's bytes as the client wrote them");

  const aliased = json.replace('claude-sonnet-4-5', 'fast');
  t.equal((await call(`${setup.gw.url}/v1/chat/completions`, { body: Buffer.from(aliased) })).status, 200);
  const renamed = setup.openai.last!.body.toString('utf8');
  t.same(JSON.parse(renamed), { ...JSON.parse(aliased), model: 'gpt-4o-mini' }, 'OpenAI: renamed by the alias');
  t.ok(renamed.includes(`"content":"${prompt}"`), 'its prompt as written');
});
