/**
 * A translated provider's 429 through the unified endpoint, as the `openai` SDK sees it: a
 * RateLimitError whose `type` names the limit the upstream says was hit (`tokens` when
 * Anthropic's `anthropic-ratelimit-*` headers, Gemini's QuotaFailure or Bedrock's
 * throttling message say a token limit, else `requests`), with the upstream's
 * `retry-after` on the response.
 */
import t from 'tap';
import OpenAI, { RateLimitError } from 'openai';
import { translatedUpstream } from '../helpers/translated-upstream.js';

/** The next answer: always a 429, with these headers and this body. */
let reply: { headers: Record<string, string>; body: unknown } = { headers: {}, body: {} };
const gw = await translatedUpstream(t, (res) => {
  res.writeHead(429, { 'content-type': 'application/json', ...reply.headers });
  res.end(JSON.stringify(reply.body));
});
const client = new OpenAI({ apiKey: 'sk-client-never-upstream-000000000', baseURL: `${gw.url}/v1`, maxRetries: 0 });

async function refusal(model: string): Promise<RateLimitError> {
  try {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 50 });
  } catch (err) {
    if (err instanceof RateLimitError) return err;
    throw err;
  }
  throw new Error('the request was not refused');
}

const ANTHROPIC_429 = { type: 'error', error: { type: 'rate_limit_error', message: 'This request would exceed the rate limit for your organization.' } };
const GEMINI_429 = (metric: string, quotaId: string) => ({
  error: {
    code: 429,
    message: 'You exceeded your current quota.',
    status: 'RESOURCE_EXHAUSTED',
    details: [{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: `generativelanguage.googleapis.com/${metric}`, quotaId }] }],
  },
});
const THROTTLED = { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' };

const CASES: Array<{ name: string; model: string; headers: Record<string, string>; body: unknown; type: 'requests' | 'tokens' }> = [
  {
    name: 'anthropic, input tokens spent',
    model: 'claude-sonnet-4-5',
    headers: { 'retry-after': '12', 'anthropic-ratelimit-requests-remaining': '41', 'anthropic-ratelimit-tokens-remaining': '0', 'anthropic-ratelimit-input-tokens-remaining': '0', 'anthropic-ratelimit-output-tokens-remaining': '7200' },
    body: ANTHROPIC_429,
    type: 'tokens',
  },
  {
    name: 'anthropic, output tokens spent',
    model: 'claude-sonnet-4-5',
    headers: { 'retry-after': '3', 'anthropic-ratelimit-requests-remaining': '9', 'anthropic-ratelimit-output-tokens-remaining': '0' },
    body: ANTHROPIC_429,
    type: 'tokens',
  },
  {
    name: 'anthropic, requests spent',
    model: 'claude-sonnet-4-5',
    headers: { 'retry-after': '20', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-tokens-remaining': '25000' },
    body: ANTHROPIC_429,
    type: 'requests',
  },
  {
    name: 'anthropic, both spent: a smaller request would not pass either',
    model: 'claude-sonnet-4-5',
    headers: { 'retry-after': '20', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-tokens-remaining': '0' },
    body: ANTHROPIC_429,
    type: 'requests',
  },
  { name: 'anthropic, no rate-limit headers', model: 'claude-sonnet-4-5', headers: { 'retry-after': '5' }, body: ANTHROPIC_429, type: 'requests' },
  { name: 'gemini, a token quota', model: 'gemini-2.5-flash', headers: { 'retry-after': '21' }, body: GEMINI_429('generate_content_free_tier_input_token_count', 'GenerateContentInputTokensPerModelPerMinute-FreeTier'), type: 'tokens' },
  { name: 'gemini, a request quota', model: 'gemini-2.5-flash', headers: { 'retry-after': '21' }, body: GEMINI_429('generate_content_free_tier_requests', 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier'), type: 'requests' },
  { name: 'bedrock, too many tokens', model: 'anthropic.claude-3-haiku-20240307-v1:0', headers: { ...THROTTLED, 'retry-after': '9' }, body: { message: 'Too many tokens, please wait before trying again.' }, type: 'tokens' },
  { name: 'bedrock, too many requests', model: 'anthropic.claude-3-haiku-20240307-v1:0', headers: { ...THROTTLED, 'retry-after': '9' }, body: { message: 'Too many requests, please wait before trying again.' }, type: 'requests' },
];

for (const c of CASES) {
  t.test(c.name, async (t) => {
    reply = { headers: c.headers, body: c.body };
    const err = await refusal(c.model);
    t.equal(err.status, 429);
    t.equal(err.type, c.type, `OpenAI's type says ${c.type}`);
    t.equal(err.code, 'rate_limit_exceeded');
    t.equal(err.headers?.get('retry-after'), c.headers['retry-after'], "the upstream's retry-after reaches the client");
  });
}
