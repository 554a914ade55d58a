/**
 * Mistral's fill-in-the-middle (`/v1/fim/completions`, Continue's Codestral autocomplete)
 * and agents completions on an `openai`-type entry are generations: metered with the chat
 * meter, rate-limited, and judged by the validator. They were auxiliary, so a Codestral
 * autocomplete was never counted, never limited, and passed any model allowlist and
 * `max_tokens` maximum. Their bodies go upstream untouched (no `stream_options`).
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { IDENTITY_PLUGIN } from '../../helpers/rate-limit.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../../helpers/outcome-recorder.js';
import { json, ScriptedUpstream } from '../../proof/support/upstream.js';

const USAGE = { prompt_tokens: 500, completion_tokens: 40, total_tokens: 540 };
const METERED = { inputTokens: 500, outputTokens: 40, cacheCreationTokens: 0, cacheReadTokens: 0 };
const LIMIT = 100_000;

/** Mistral's answer to both: a chat completion. */
const completion = (model: string) => ({ id: 'f1', object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: 'return a + b' }, finish_reason: 'stop' }], usage: USAGE });

/** Mistral's stream: chat chunks, usage on the last content chunk, unasked. */
const sse = (model: string) => [
  { id: 'f1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { role: 'assistant', content: 'return' }, finish_reason: null }] },
  { id: 'f1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content: ' a + b' }, finish_reason: 'stop' }], usage: USAGE },
].map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';

const upstream = await ScriptedUpstream.start();
t.teardown(() => upstream.close());
// `stream_include_usage` left at its default (true): these bodies must still not be rewritten.
const gw = await startGateway(t, JSON.stringify({
  providers: { mistral: { type: 'openai', api_key: 'mistral-key-0000', base_url: upstream.url, models: ['codestral-latest'] } },
  filters: [
    { name: 'identity', plugin: IDENTITY_PLUGIN },
    // The agent's own entry: a model allowlist judges an agents request as `agent:<id>`.
    { name: 'validator', config: { models: ['codestral-*', 'mistral-*', 'agent:ag:1234'], max_tokens: 1024, max_prompt_chars: 1000 } },
    { name: 'rate-limit', config: { bytes_per_token: 1e9 } },
    { name: 'recorder', plugin: OUTCOME_RECORDER_PATH },
  ],
  rate_limits: { default: { tokens_per_minute: LIMIT } },
}));

let users = 0;
async function post(path: string, body: string) {
  const res = await fetch(`${gw.url}/v1/mistral${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': `mistral-${++users}` }, body });
  return { status: res.status, text: await res.text(), id: res.headers.get('x-request-id')!, reserved: LIMIT - Number(res.headers.get('x-ratelimit-remaining-tokens')) };
}

t.test('FIM: a generation, metered, rate-limited, its body untouched', async (t) => {
  upstream.script.push((_req, res) => json(res, 200, completion('codestral-latest')));
  const body = JSON.stringify({ model: 'codestral-latest', prompt: 'def add(a, b):', suffix: '\n\nprint(add(1, 2))', max_tokens: 64 });
  const res = await post('/v1/fim/completions', body);
  t.equal(res.status, 200);
  t.equal(upstream.seen.at(-1)!.url, '/v1/fim/completions');
  t.equal(upstream.seen.at(-1)!.body.toString(), body, 'forwarded byte for byte');
  t.equal(res.reserved, 65, 'the rate limiter reserved the cap and the input token');
  const rec = await outcomeFor(res.id);
  t.equal(rec.kind, 'generation');
  t.equal(rec.model, 'codestral-latest');
  t.equal(rec.maxOutputTokens, 64);
  t.same(rec.outcome.usage, METERED, "the answer's usage is counted");
});

t.test('FIM streamed: usage from the last chunk, no stream_options added', async (t) => {
  upstream.script.push((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(sse('codestral-latest'));
  });
  const body = JSON.stringify({ model: 'codestral-latest', prompt: 'def add(a, b):', max_tokens: 64, stream: true });
  const res = await post('/v1/fim/completions', body);
  t.equal(res.status, 200);
  t.equal(res.text, sse('codestral-latest'), 'the stream passes unchanged');
  t.equal(upstream.seen.at(-1)!.body.toString(), body, 'no stream_options: not part of the FIM API');
  const rec = await outcomeFor(res.id);
  t.equal(rec.outcome.stream, true);
  t.same(rec.outcome.usage, METERED);
});

t.test("FIM: the validator's allowlist, max_tokens and prompt length apply", async (t) => {
  const before = upstream.seen.length;
  const fim = (extra: Record<string, unknown>) => JSON.stringify({ model: 'codestral-latest', prompt: 'def f(', max_tokens: 16, ...extra });
  const model = await post('/v1/fim/completions', fim({ model: 'devstral-medium' }));
  t.equal(model.status, 403, 'a model outside the allowlist');
  t.match(model.text, /devstral-medium/);
  const cap = await post('/v1/fim/completions', fim({ max_tokens: 100_000 }));
  t.equal(cap.status, 400, 'max_tokens over the maximum');
  t.match(cap.text, /max_tokens: 100000 is above the maximum of 1024/);
  const suffix = await post('/v1/fim/completions', fim({ suffix: 'x'.repeat(2000) }));
  t.equal(suffix.status, 400, 'the code after the cursor is prompt too');
  t.match(suffix.text, /the prompt is 2006 characters/);
  t.equal(upstream.seen.length, before, 'none reached the upstream');
});

t.test('agents completions: a generation, metered', async (t) => {
  upstream.script.push((_req, res) => json(res, 200, completion('mistral-large-latest')));
  const res = await post('/v1/agents/completions', JSON.stringify({ agent_id: 'ag:1234', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }));
  t.equal(res.status, 200);
  t.equal(upstream.seen.at(-1)!.url, '/v1/agents/completions');
  t.equal(res.reserved, 65);
  const rec = await outcomeFor(res.id);
  t.equal(rec.kind, 'generation');
  t.same(rec.outcome.usage, METERED);
  t.equal((await post('/v1/agents/completions', JSON.stringify({ agent_id: 'ag:1234', max_tokens: 100000, messages: [{ role: 'user', content: 'hi' }] }))).status, 400, 'its max_tokens is judged');
});
