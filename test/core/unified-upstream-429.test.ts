/**
 * A translated provider's 429 through the unified endpoint, as the `openai` SDK sees it: a
 * RateLimitError whose `type` names the limit the upstream says was hit (`tokens` when
 * Anthropic's `anthropic-ratelimit-*` headers, Gemini's QuotaFailure or Bedrock's
 * throttling message say a token limit, else `requests`), with one valid `retry-after` on the
 * response: the upstream's (the longest, when it sent several), or for Anthropic without one
 * the wait until the spent limit resets, which the SDK then waits out before its retry.
 */
import http from 'node:http';
import t from 'tap';
import OpenAI, { RateLimitError } from 'openai';
import { translatedUpstream } from '../helpers/translated-upstream.js';

/** The next answer: always a 429, with these headers and this body. */
let reply: { headers: Record<string, string | string[]>; body: unknown } = { headers: {}, body: {} };
/** When each upstream request was answered. */
const answered: number[] = [];
const gw = await translatedUpstream(t, (res) => {
  answered.push(performance.now());
  // An array is sent as the header repeated, as a proxy in front of the upstream may.
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

/** Anthropic's clock for the reset cases: its `date` header, and a time `s` seconds later. */
const DATE = 'Wed, 21 Oct 2026 07:28:00 GMT';
const after = (s: number): string => new Date(Date.parse(DATE) + s * 1000).toISOString();

const CASES: Array<{ name: string; model: string; headers: Record<string, string | string[]>; body: unknown; type: 'requests' | 'tokens'; retryAfter?: string }> = [
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
  {
    name: 'anthropic, no rate-limit headers, a message naming a tokens limit',
    model: 'claude-sonnet-4-5',
    headers: { 'retry-after': '5' },
    body: { type: 'error', error: { type: 'rate_limit_error', message: "This request would exceed your organization's rate limit of 30,000 input tokens per minute." } },
    type: 'tokens',
  },
  { name: 'gemini, a token quota', model: 'gemini-2.5-flash', headers: { 'retry-after': '21' }, body: GEMINI_429('generate_content_free_tier_input_token_count', 'GenerateContentInputTokensPerModelPerMinute-FreeTier'), type: 'tokens' },
  { name: 'gemini, a request quota', model: 'gemini-2.5-flash', headers: { 'retry-after': '21' }, body: GEMINI_429('generate_content_free_tier_requests', 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier'), type: 'requests' },
  { name: 'bedrock, too many tokens', model: 'anthropic.claude-3-haiku-20240307-v1:0', headers: { ...THROTTLED, 'retry-after': '9' }, body: { message: 'Too many tokens, please wait before trying again.' }, type: 'tokens' },
  { name: 'bedrock, too many requests', model: 'anthropic.claude-3-haiku-20240307-v1:0', headers: { ...THROTTLED, 'retry-after': '9' }, body: { message: 'Too many requests, please wait before trying again.' }, type: 'requests' },
  { name: 'anthropic, retry-after sent twice: the longer', model: 'claude-sonnet-4-5', headers: { 'retry-after': ['5', '12'] }, body: ANTHROPIC_429, type: 'requests', retryAfter: '12' },
  {
    name: 'anthropic, no retry-after: until the spent limit resets',
    model: 'claude-sonnet-4-5',
    headers: {
      date: DATE,
      'anthropic-ratelimit-requests-remaining': '41',
      'anthropic-ratelimit-requests-reset': after(1),
      'anthropic-ratelimit-output-tokens-remaining': '0',
      'anthropic-ratelimit-output-tokens-reset': after(19.2),
    },
    body: ANTHROPIC_429,
    type: 'tokens',
    retryAfter: '20',
  },
  { name: 'anthropic, an invalid retry-after: none', model: 'claude-sonnet-4-5', headers: { 'retry-after': 'soon' }, body: ANTHROPIC_429, type: 'requests', retryAfter: undefined },
  { name: 'gemini, retry-after sent twice: the longer', model: 'gemini-2.5-flash', headers: { 'retry-after': ['21', '4'] }, body: GEMINI_429('generate_content_free_tier_requests', 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier'), type: 'requests', retryAfter: '21' },
  { name: 'bedrock, retry-after sent twice: the longer', model: 'anthropic.claude-3-haiku-20240307-v1:0', headers: { ...THROTTLED, 'retry-after': ['2', '9'] }, body: { message: 'Too many requests, please wait before trying again.' }, type: 'requests', retryAfter: '9' },
];

for (const c of CASES) {
  t.test(c.name, async (t) => {
    reply = { headers: c.headers, body: c.body };
    const err = await refusal(c.model);
    t.equal(err.status, 429);
    t.equal(err.type, c.type, `OpenAI's type says ${c.type}`);
    t.equal(err.code, 'rate_limit_exceeded');
    const expected = 'retryAfter' in c ? c.retryAfter : c.headers['retry-after'];
    t.equal(err.headers?.get('retry-after') ?? undefined, expected, 'one valid retry-after reaches the client');
  });
}

t.test('the SDK waits out the derived retry-after before its own retry', async (t) => {
  // Anthropic's clock in whole seconds, as its `date` header has it; the tokens reset 2 s later.
  const now = Math.floor(Date.now() / 1000) * 1000;
  reply = {
    headers: { date: new Date(now).toUTCString(), 'anthropic-ratelimit-tokens-remaining': '0', 'anthropic-ratelimit-tokens-reset': new Date(now + 2000).toISOString() },
    body: ANTHROPIC_429,
  };
  answered.length = 0;
  const retrying = new OpenAI({ apiKey: 'sk-client-never-upstream-000000000', baseURL: `${gw.url}/v1`, maxRetries: 1 });
  const err = await retrying.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 50 }).catch((e: unknown) => e);
  t.ok(err instanceof RateLimitError, 'still refused after the retry');
  t.equal(answered.length, 2, 'the SDK retried once');
  // Without a retry-after the SDK backs off half a second at most.
  t.ok(answered[1] - answered[0] >= 1900, `the retry came ${Math.round(answered[1] - answered[0])} ms later, after the reset`);
});

/** The retry-after fields of a 429 on the Anthropic-native route, as sent (Node keeps only the first in `headers`). */
function nativeRetryAfter(): Promise<string[]> {
  const url = new URL(gw.url);
  const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: 'POST', path: '/v1/claude/v1/messages', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        const values: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i].toLowerCase() === 'retry-after') values.push(res.rawHeaders[i + 1]);
        resolve(values);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test("pass-through: an Anthropic client gets Anthropic's retry-after as it was sent", async (t) => {
  reply = { headers: { 'retry-after': ['5', '12'] }, body: ANTHROPIC_429 };
  t.same(await nativeRetryAfter(), ['5', '12'], 'both fields, unchanged');
  reply = { headers: { date: DATE, 'anthropic-ratelimit-tokens-remaining': '0', 'anthropic-ratelimit-tokens-reset': after(20) }, body: ANTHROPIC_429 };
  t.same(await nativeRetryAfter(), [], 'none made up from the reset headers');
});
