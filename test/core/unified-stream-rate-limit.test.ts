/**
 * A translated stream cut by the upstream's rate limit after its head, as the `openai` SDK
 * sees it: an APIError whose `type` names the limit hit where the upstream's event says
 * which (a Gemini RESOURCE_EXHAUSTED whose QuotaFailure lists only token quotas, a Bedrock
 * throttlingException saying too many tokens, an Anthropic `rate_limit_error` event whose
 * message names a tokens-per-minute limit), else OpenAI's default, `requests`.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import t from 'tap';
import OpenAI, { APIError } from 'openai';
import { translatedUpstream } from '../helpers/translated-upstream.js';

/** The next answer: a 200 stream of these bytes, of this content type. */
let reply: { type: string; body: Uint8Array[] } = { type: 'text/event-stream', body: [] };
const gw = await translatedUpstream(t, (res) => {
  res.writeHead(200, { 'content-type': reply.type });
  for (const piece of reply.body) res.write(piece);
  res.end();
});
const client = new OpenAI({ apiKey: 'sk-client-never-upstream-000000000', baseURL: `${gw.url}/v1`, maxRetries: 0 });

const sse = (...events: string[]): Uint8Array[] => events.map((e) => Buffer.from(`${e}\n\n`));
const codec = new EventStreamCodec(toUtf8, fromUtf8);
const frame = (kind: 'event' | 'exception', name: string, payload: unknown): Uint8Array => {
  const nameHeader = kind === 'event' ? ':event-type' : ':exception-type';
  const headers = { [nameHeader]: { type: 'string' as const, value: name }, ':content-type': { type: 'string' as const, value: 'application/json' }, ':message-type': { type: 'string' as const, value: kind } };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(payload)) });
};

const anthropic = (message: string): Uint8Array[] => sse(
  'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}',
  'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Once upon"}}',
  `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message } })}`,
);
const ANTHROPIC_LIMIT = (limit: string): string =>
  `This request would exceed your organization's rate limit of ${limit} per minute (org: 0000, model: claude-sonnet-4-5). For details, refer to: https://docs.claude.com/en/api/rate-limits.`;
const gemini = (quotaMetric: string, quotaId: string): Uint8Array[] =>
  sse(
    'data: {"candidates":[{"content":{"parts":[{"text":"Once upon"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":2,"totalTokenCount":14},"modelVersion":"gemini-2.5-flash"}',
    `data: ${JSON.stringify({ error: { code: 429, message: 'You exceeded your current quota.', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: `generativelanguage.googleapis.com/${quotaMetric}`, quotaId }] }] } })}`,
  );
const bedrock = (message: string): Uint8Array[] => [
  frame('event', 'messageStart', { role: 'assistant' }),
  frame('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Once upon' } }),
  frame('exception', 'throttlingException', { message }),
];
const EVENTSTREAM = 'application/vnd.amazon.eventstream';

const CASES: Array<{ name: string; model: string; reply: typeof reply; type: 'requests' | 'tokens' }> = [
  { name: 'anthropic: the event names no limit', model: 'claude-sonnet-4-5', reply: { type: 'text/event-stream', body: anthropic('This request would exceed the rate limit for your organization.') }, type: 'requests' },
  { name: 'anthropic: an input tokens limit', model: 'claude-sonnet-4-5', reply: { type: 'text/event-stream', body: anthropic(ANTHROPIC_LIMIT('30,000 input tokens')) }, type: 'tokens' },
  { name: 'anthropic: an output tokens limit', model: 'claude-sonnet-4-5', reply: { type: 'text/event-stream', body: anthropic(ANTHROPIC_LIMIT('8,000 output tokens')) }, type: 'tokens' },
  { name: 'anthropic: a requests limit', model: 'claude-sonnet-4-5', reply: { type: 'text/event-stream', body: anthropic(ANTHROPIC_LIMIT('50 requests')) }, type: 'requests' },
  {
    name: 'gemini: a token quota',
    model: 'gemini-2.5-flash',
    reply: { type: 'text/event-stream', body: gemini('generate_content_free_tier_output_token_count', 'GenerateContentOutputTokensPerModelPerMinute-FreeTier') },
    type: 'tokens',
  },
  { name: 'gemini: a request quota', model: 'gemini-2.5-flash', reply: { type: 'text/event-stream', body: gemini('generate_content_free_tier_requests', 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier') }, type: 'requests' },
  { name: 'bedrock: too many tokens', model: 'anthropic.claude-3-haiku-20240307-v1:0', reply: { type: EVENTSTREAM, body: bedrock('Too many tokens, please wait before trying again.') }, type: 'tokens' },
  { name: 'bedrock: too many requests', model: 'anthropic.claude-3-haiku-20240307-v1:0', reply: { type: EVENTSTREAM, body: bedrock('Too many requests, please wait before trying again.') }, type: 'requests' },
];

for (const c of CASES) {
  t.test(c.name, async (t) => {
    reply = c.reply;
    const stream = await client.chat.completions.create({ model: c.model, messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 50, stream: true });
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().then(() => undefined, (e: unknown) => e);
    t.equal(text, 'Once upon', 'what came before the limit');
    t.ok(err instanceof APIError, 'the SDK raises the error event');
    t.equal((err as APIError).type, c.type, `OpenAI's type says ${c.type}`);
    t.equal((err as APIError).code, 'rate_limit_exceeded');
  });
}
