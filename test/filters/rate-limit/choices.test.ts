/**
 * A request asking for several completions (`n`, `best_of`, Gemini's `candidateCount`,
 * on Bedrock Cohere Command's `num_generations` and AI21's `numResults` or `n`)
 * reserves its cap for each of them: OpenAI generates `n` answers of up to `max_tokens`
 * each, and the estimate was the cap once, so `n: 8` spent eight times what it reserved.
 * Read on the `x-ratelimit-remaining-tokens` of each user's first request, which is the
 * limit less exactly that request's reservation (one input token: `bytes_per_token` 1e9).
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { IDENTITY_PLUGIN } from '../../helpers/rate-limit.js';
import { GeminiMock } from '../../mocks/gemini-mock.js';
import { json, ScriptedUpstream } from '../../proof/support/upstream.js';

const LIMIT = 100_000;
const GEMINI_KEY = 'AIza-gateway-key-000000000000000000';

const upstream = await ScriptedUpstream.start();
t.teardown(() => upstream.close());
const gemini = await GeminiMock.start(GEMINI_KEY);
t.teardown(() => gemini.close());
const gw = await startGateway(t, JSON.stringify({
  providers: {
    openai: { api_key: 'sk-choices-0000', base_url: upstream.url },
    gemini: { api_key: GEMINI_KEY, base_url: gemini.url },
    bedrock: { region: 'us-east-1', base_url: upstream.url, access_key_id: 'AKIACHOICES000000001', secret_access_key: 'choicesSecret/000000000000' },
  },
  filters: [
    { name: 'identity', plugin: IDENTITY_PLUGIN },
    { name: 'validator', config: { max_tokens: 1024 } },
    { name: 'rate-limit', config: { bytes_per_token: 1e9 } },
  ],
  rate_limits: { default: { tokens_per_minute: LIMIT } },
}));

let users = 0;
/** POST `body` as a new user; the tokens its admission reserved, read from the head. */
async function reserved(path: string, body: Record<string, unknown>): Promise<{ status: number; tokens: number }> {
  const res = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': `choices-${++users}` }, body: JSON.stringify(body) });
  await res.text();
  return { status: res.status, tokens: LIMIT - Number(res.headers.get('x-ratelimit-remaining-tokens')) };
}

const chat = (extra: Record<string, unknown>) => ({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...extra });
const completion = { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, text: 'x', finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };

t.test('OpenAI chat: n completions reserve n times the cap', async (t) => {
  t.same(await reserved('/v1/openai/v1/chat/completions', chat({ max_tokens: 100 })), { status: 200, tokens: 101 }, 'one completion: the cap and the input token');
  t.same(await reserved('/v1/openai/v1/chat/completions', chat({ n: 4, max_tokens: 100 })), { status: 200, tokens: 401 }, 'n: 4');
  t.same(await reserved('/v1/openai/v1/chat/completions', chat({ n: 3, max_completion_tokens: 100 })), { status: 200, tokens: 301 }, 'with max_completion_tokens');
});

t.test("the validator's max_tokens is a per-completion cap; the reservation is the whole", async (t) => {
  t.same(await reserved('/v1/openai/v1/chat/completions', chat({ n: 8, max_tokens: 1000 })), { status: 200, tokens: 8001 }, '8 × 1000 passes a maximum of 1024 and reserves 8000');
  t.equal((await reserved('/v1/openai/v1/chat/completions', chat({ n: 1, max_tokens: 2000 }))).status, 400, 'a cap over the maximum is still refused');
});

t.test('OpenAI completions: best_of generates best_of completions', async (t) => {
  upstream.script.push((_req, res) => json(res, 200, completion), (_req, res) => json(res, 200, completion));
  t.same(await reserved('/v1/openai/v1/completions', { model: 'gpt-4o', prompt: 'x', best_of: 3, n: 2, max_tokens: 100 }), { status: 200, tokens: 301 }, 'best_of: 3, n: 2');
  t.same(await reserved('/v1/openai/v1/completions', { model: 'gpt-4o', prompt: 'x', n: 2, max_tokens: 100 }), { status: 200, tokens: 201 }, 'n alone');
});

t.test('Gemini: candidateCount candidates reserve that many times the cap', async (t) => {
  const body = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { maxOutputTokens: 100, candidateCount: 3 } };
  t.same(await reserved('/v1/gemini/v1beta/models/gemini-2.5-flash:generateContent', body), { status: 200, tokens: 301 });
});

t.test("Gemini: the cap and candidate count in the proto's spelling reserve as the camelCase ones", async (t) => {
  const contents = [{ role: 'user', parts: [{ text: 'hi' }] }];
  const path = '/v1/gemini/v1beta/models/gemini-2.5-flash:generateContent';
  t.same(await reserved(path, { contents, generation_config: { max_output_tokens: 100, candidate_count: 3 } }), { status: 200, tokens: 301 }, 'generation_config.max_output_tokens');
  t.same(await reserved(path, { contents, generationConfig: { max_output_tokens: 100, candidateCount: 2 } }), { status: 200, tokens: 201 }, 'mixed spellings');
  t.same(await reserved(path, { contents, generationConfig: { maxOutputTokens: 50 }, generation_config: { max_output_tokens: 100 } }), { status: 200, tokens: 101 }, 'both given: the larger');
});

t.test('Bedrock InvokeModel: Cohere num_generations, AI21 Jurassic numResults and Jamba n reserve that many times the cap', async (t) => {
  const invoke = (model: string) => `/v1/bedrock/model/${model}/invoke`;
  t.same(await reserved(invoke('cohere.command-text-v14'), { prompt: 'hi', max_tokens: 100, num_generations: 3 }), { status: 200, tokens: 301 }, 'num_generations: 3');
  t.same(await reserved(invoke('ai21.j2-ultra-v1'), { prompt: 'hi', numResults: 4 }), { status: 200, tokens: 4 * 4096 + 1 }, 'numResults: 4, no cap: default_output_tokens for each');
  t.same(await reserved(invoke('ai21.j2-ultra-v1'), { prompt: 'hi', maxTokens: 100, numResults: 4 }), { status: 200, tokens: 401 }, "Jurassic's own cap, maxTokens, for each of numResults: 4");
  t.same(await reserved(invoke('ai21.j2-mid-v1'), { prompt: 'hi', maxTokens: 100 }), { status: 200, tokens: 101 }, 'maxTokens alone');
  t.equal((await reserved(invoke('ai21.j2-ultra-v1'), { prompt: 'hi', maxTokens: 2000 })).status, 400, "a maxTokens over the validator's maximum is refused");
  t.same(await reserved('/v1/bedrock/invoke', { model_id: 'ai21.j2-ultra-v1', body: { prompt: 'hi', maxTokens: 100 } }), { status: 200, tokens: 101 }, "the gateway's /invoke reads it in the model's body");
  t.same(await reserved(invoke('ai21.jamba-1-5-large-v1:0'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 100, n: 2 }), { status: 200, tokens: 201 }, 'n: 2');
  t.same(await reserved(invoke('cohere.command-text-v14'), { prompt: 'hi', max_tokens: 100 }), { status: 200, tokens: 101 }, 'one generation by default');
  t.same(await reserved(invoke('cohere.command-text-v14'), { prompt: 'hi', max_tokens: 100, num_generations: '3' }), { status: 200, tokens: 101 }, 'a count that is no number is one');
  t.same(await reserved('/v1/bedrock/invoke', { model_id: 'cohere.command-text-v14', body: { prompt: 'hi', max_tokens: 100, num_generations: 5 } }), { status: 200, tokens: 501 }, "the gateway's /invoke reads the model's body");
});

t.test('the unified endpoint, to an OpenAI-type provider, which generates n', async (t) => {
  t.same(await reserved('/v1/chat/completions', chat({ n: 4, max_tokens: 100 })), { status: 200, tokens: 401 });
});

t.test('a count that is none reserves one completion; an absurd one no more than the limiter allows', async (t) => {
  for (const n of [0, -8, '8', null]) {
    t.same(await reserved('/v1/openai/v1/chat/completions', chat({ n, max_tokens: 100 })), { status: 200, tokens: 101 }, `n: ${JSON.stringify(n)}`);
  }
  t.same(await reserved('/v1/openai/v1/chat/completions', chat({ n: 1.5, max_tokens: 100 })), { status: 200, tokens: 201 }, 'a fraction counts as the next whole number');
  t.same(await reserved('/v1/openai/v1/chat/completions', chat({ n: 1e12, max_tokens: 100 })), { status: 200, tokens: 32768 }, 'n: 1e12 reserves max_reserved_tokens, a number');
  t.same(await reserved('/v1/openai/v1/chat/completions', chat({ n: 2 })), { status: 200, tokens: 8193 }, 'no cap: default_output_tokens for each');
});
