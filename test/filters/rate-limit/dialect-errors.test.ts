/**
 * A refusal says which limit it hit in each dialect's own terms: OpenAI's error `type` is
 * `tokens` for a tokens-per-minute limit and `requests` for a requests-per-minute one
 * (`code: rate_limit_exceeded` either way), as OpenAI's own 429s do; Anthropic's stays
 * `rate_limit_error` and Gemini's `RESOURCE_EXHAUSTED` whichever limit it was.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { IDENTITY_PLUGIN } from '../../helpers/rate-limit.js';
import { GeminiMock } from '../../mocks/gemini-mock.js';
import { ScriptedUpstream } from '../../proof/support/upstream.js';

const GEMINI_KEY = 'AIza-gateway-key-000000000000000000';

const upstream = await ScriptedUpstream.start();
t.teardown(() => upstream.close());
const gemini = await GeminiMock.start(GEMINI_KEY);
t.teardown(() => gemini.close());
const gw = await startGateway(t, JSON.stringify({
  providers: {
    echo: { models: ['echo-1'] },
    openai: { api_key: 'sk-dialect-0000', base_url: upstream.url },
    gemini: { api_key: GEMINI_KEY, base_url: gemini.url },
  },
  filters: [
    { name: 'identity', plugin: IDENTITY_PLUGIN },
    { name: 'rate-limit', config: { bytes_per_token: 1e9 } },
  ],
  rate_limits: { default: { requests_per_minute: 100, tokens_per_minute: 100 }, users: { once: { requests_per_minute: 1 } } },
}));

async function post(path: string, user: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, Record<string, unknown>> }> {
  const res = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': user }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, Record<string, unknown>> };
}

const chat = (maxTokens: number) => ({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: maxTokens });

/** A reservation is at most the limit, so the first request is admitted and spends what the second needs. */
async function overTokens(path: string, user: string, body: Record<string, unknown>) {
  const first = await post(path, user, body);
  if (first.status !== 200) throw new Error(`${path}: the first request was refused (${first.status})`);
  return post(path, user, body);
}

t.test('OpenAI dialect: type names the limit that was hit', async (t) => {
  const tokens = await overTokens('/v1/openai/v1/chat/completions', 'tok', chat(500));
  t.equal(tokens.status, 429);
  t.equal(tokens.body.error.type, 'tokens', 'over the tokens-per-minute limit');
  t.equal(tokens.body.error.code, 'rate_limit_exceeded');
  t.match(tokens.body.error.message, /tokens per minute/);

  t.equal((await post('/v1/openai/v1/chat/completions', 'once', chat(10))).status, 200, 'the one request a minute');
  const requests = await post('/v1/openai/v1/chat/completions', 'once', chat(10));
  t.equal(requests.status, 429);
  t.equal(requests.body.error.type, 'requests', 'over the requests-per-minute limit');
  t.equal(requests.body.error.code, 'rate_limit_exceeded');
});

t.test('Anthropic and Gemini dialects keep their one rate-limit type', async (t) => {
  const anthropic = await overTokens('/v1/echo/v1/messages', 'tok-a', { model: 'echo-1', max_tokens: 500, messages: [{ role: 'user', content: 'hi' }] });
  t.equal(anthropic.status, 429);
  t.equal(anthropic.body.error.type, 'rate_limit_error');

  const google = await overTokens('/v1/gemini/v1beta/models/gemini-2.0-flash:generateContent', 'tok-g', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { maxOutputTokens: 500 } });
  t.equal(google.status, 429);
  t.equal(google.body.error.status, 'RESOURCE_EXHAUSTED');
  t.equal(google.body.error.code, 429);
});
