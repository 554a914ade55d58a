/**
 * Mistral's Conversations API on an `openai`-type entry is a generation: a start
 * (`POST /v1/conversations`), an append (`/v1/conversations/{id}`) and a restart
 * (`…/{id}/restart`) are rate-limited with `completion_args.max_tokens` as the cap, judged by
 * the validator (model, cap, the `inputs` as prompt) and metered from the conversation
 * response or its `conversation.response.done` event. They were auxiliary: no limit, no
 * allowlist, no usage — a way around every limit and budget. And a request that names an
 * agent (`agent_id`) instead of a model is judged as `agent:<id>` by a model allowlist:
 * refused unless the list admits that agent.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { IDENTITY_PLUGIN } from '../../helpers/rate-limit.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../../helpers/outcome-recorder.js';
import { json, ScriptedUpstream } from '../../proof/support/upstream.js';

const LIMIT = 100_000;
/** 20 tokens a web-search connector brought in: in total_tokens, not in prompt_tokens. */
const USAGE = { prompt_tokens: 500, completion_tokens: 40, total_tokens: 560, connector_tokens: 20, connectors: { web_search: 1 } };
const METERED = { inputTokens: 520, outputTokens: 40, cacheCreationTokens: 0, cacheReadTokens: 0 };

const answer = (model: string) => ({
  object: 'conversation.response',
  conversation_id: 'conv_0681',
  outputs: [{ object: 'entry', type: 'message.output', created_at: '2026-12-01T00:00:00Z', completed_at: '2026-12-01T00:00:01Z', id: 'msg_1', agent_id: null, model, role: 'assistant', content: 'Hello.' }],
  usage: USAGE,
});

const event = (name: string, data: Record<string, unknown>) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
const delta = (model: string, content: string) => event('message.output.delta', { created_at: '2026-12-01T00:00:00Z', output_index: 0, id: 'msg_1', content_index: 0, model, agent_id: null, role: 'assistant', content });
const started = event('conversation.response.started', { created_at: '2026-12-01T00:00:00Z', conversation_id: 'conv_0681' });
const done = event('conversation.response.done', { created_at: '2026-12-01T00:00:01Z', usage: USAGE });

const upstream = await ScriptedUpstream.start();
t.teardown(() => upstream.close());
const gw = await startGateway(t, JSON.stringify({
  providers: { mistral: { type: 'openai', api_key: 'mistral-key-0000', base_url: upstream.url } },
  filters: [
    { name: 'identity', plugin: IDENTITY_PLUGIN },
    { name: 'validator', config: { models: ['mistral-*', 'agent:ag_listed'], max_tokens: 1024, max_prompt_chars: 1000 } },
    { name: 'rate-limit', config: { bytes_per_token: 1e9 } },
    { name: 'recorder', plugin: OUTCOME_RECORDER_PATH },
  ],
  rate_limits: { default: { tokens_per_minute: LIMIT } },
}));

let users = 0;
async function post(path: string, body: string) {
  const res = await fetch(`${gw.url}/v1/mistral${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': `conv-${++users}` }, body });
  return { status: res.status, text: await res.text(), id: res.headers.get('x-request-id')!, reserved: LIMIT - Number(res.headers.get('x-ratelimit-remaining-tokens')) };
}

t.test('a start: a generation, its cap reserved, its usage metered, its body untouched', async (t) => {
  upstream.script.push((_req, res) => json(res, 200, answer('mistral-medium-2505')));
  const body = JSON.stringify({ model: 'mistral-medium-latest', inputs: 'Who won the last World Cup?', tools: [{ type: 'web_search' }], completion_args: { max_tokens: 64, temperature: 0.3 } });
  const res = await post('/v1/conversations', body);
  t.equal(res.status, 200);
  t.equal(upstream.seen.at(-1)!.url, '/v1/conversations');
  t.equal(upstream.seen.at(-1)!.body.toString(), body, 'forwarded byte for byte');
  t.equal(res.reserved, 65, 'completion_args.max_tokens and the input token reserved');
  const rec = await outcomeFor(res.id);
  t.equal(rec.kind, 'generation');
  t.equal(rec.model, 'mistral-medium-latest');
  t.equal(rec.maxOutputTokens, 64);
  t.same(rec.outcome.usage, METERED, "prompt and connector tokens are input; the completion's are output");
  t.notOk(rec.outcome.usageEstimated);
});

t.test('a start streamed: usage from conversation.response.done, the stream unchanged', async (t) => {
  const sse = started + delta('mistral-medium-2505', 'Hel') + delta('mistral-medium-2505', 'lo.') + done;
  upstream.script.push((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(sse);
  });
  const body = JSON.stringify({ model: 'mistral-medium-latest', inputs: [{ role: 'user', content: 'hi' }], stream: true });
  const res = await post('/v1/conversations', body);
  t.equal(res.status, 200);
  t.equal(res.text, sse);
  t.equal(upstream.seen.at(-1)!.body.toString(), body, 'no stream_options: not part of this API');
  t.equal(res.reserved, 4097, 'no cap: default_output_tokens');
  const rec = await outcomeFor(res.id);
  t.equal(rec.outcome.stream, true);
  t.same(rec.outcome.usage, METERED);
  t.notOk(rec.outcome.usageEstimated);
});

t.test('a stream cut before conversation.response.done is charged estimates', async (t) => {
  upstream.script.push((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(started + delta('mistral-medium-2505', 'Hel') + delta('mistral-medium-2505', 'lo'));
  });
  const res = await post('/v1/conversations', JSON.stringify({ model: 'mistral-medium-latest', inputs: 'hi', stream: true }));
  const rec = await outcomeFor(res.id);
  t.equal(rec.outcome.usageEstimated, true);
  t.ok(rec.outcome.usage.outputTokens >= 2, 'a token for each delta read');
  t.ok(rec.outcome.usage.inputTokens > 0, 'input from the request body');
});

t.test('an append and a restart: generations, the model read from the answer', async (t) => {
  for (const path of ['/v1/conversations/conv_0681', '/v1/conversations/conv_0681/restart']) {
    upstream.script.push((_req, res) => json(res, 200, answer('mistral-medium-2505')));
    const res = await post(path, JSON.stringify({ inputs: 'And the one before?', from_entry_id: 'msg_1', completion_args: { max_tokens: 32 } }));
    t.equal(res.status, 200, path);
    t.equal(upstream.seen.at(-1)!.url, path);
    t.equal(res.reserved, 33, `${path}: its cap reserved`);
    const rec = await outcomeFor(res.id);
    t.equal(rec.kind, 'generation', path);
    t.equal(rec.model, 'mistral-medium-2505', `${path}: the model that answered`);
    t.same(rec.outcome.usage, METERED, path);
  }
  upstream.script.push((_req, res) => json(res, 200, { id: 'conv_0681', object: 'conversation', model: 'mistral-medium-2505' }));
  const got = await fetch(`${gw.url}/v1/mistral/v1/conversations/conv_0681`, { headers: { 'x-user': 'conv-get' } });
  await got.text();
  t.equal((await outcomeFor(got.headers.get('x-request-id')!)).kind, 'auxiliary', 'reading a conversation is not one');
});

t.test("the validator: the start's model, completion_args.max_tokens and inputs", async (t) => {
  const before = upstream.seen.length;
  const start = (extra: Record<string, unknown>) => JSON.stringify({ model: 'mistral-medium-latest', inputs: 'hi', ...extra });
  const model = await post('/v1/conversations', start({ model: 'magistral-medium-latest' }));
  t.equal(model.status, 403, 'a model outside the allowlist');
  t.match(model.text, /magistral-medium-latest/);
  const cap = await post('/v1/conversations', start({ completion_args: { max_tokens: 100_000 } }));
  t.equal(cap.status, 400);
  t.match(cap.text, /completion_args\.max_tokens: 100000 is above the maximum of 1024/);
  const appendCap = await post('/v1/conversations/conv_0681', JSON.stringify({ inputs: 'x', completion_args: { max_tokens: 5000 } }));
  t.equal(appendCap.status, 400, "an append's cap too");
  const long = await post('/v1/conversations', start({ inputs: [{ role: 'user', content: 'x'.repeat(2000) }] }));
  t.equal(long.status, 400, 'inputs are prompt');
  t.match(long.text, /the prompt is 2000 characters/);
  t.equal(upstream.seen.length, before, 'none reached the upstream');
});

t.test('an agent_id under a model allowlist: refused unless the list names agent:<id>', async (t) => {
  const before = upstream.seen.length;
  const conv = await post('/v1/conversations', JSON.stringify({ agent_id: 'ag_other', inputs: 'hi' }));
  t.equal(conv.status, 403);
  t.match(conv.text, /agent_id: \\?"agent:ag_other\\?" is not allowed/);
  const agents = await post('/v1/agents/completions', JSON.stringify({ agent_id: 'ag_other', messages: [{ role: 'user', content: 'hi' }] }));
  t.equal(agents.status, 403, 'agents completions alike');
  t.equal(upstream.seen.length, before, 'neither forwarded');

  upstream.script.push((_req, res) => json(res, 200, answer('mistral-large-2411')));
  const listed = await post('/v1/conversations', JSON.stringify({ agent_id: 'ag_listed', inputs: 'hi' }));
  t.equal(listed.status, 200, 'an agent the allowlist names');
  const rec = await outcomeFor(listed.id);
  t.equal(rec.model, 'mistral-large-2411', "priced and audited as the agent's model, from the answer");
  t.same(rec.outcome.usage, METERED);
});
