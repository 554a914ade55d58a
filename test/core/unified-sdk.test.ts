/**
 * The real `openai` SDK against the gateway's unified endpoint, to the Anthropic mock
 * (translated) and the OpenAI mock (passed on): replies, streams with and without
 * `include_usage`, tools, images, errors as the SDK's classes, and what accounting sees.
 */
import t from 'tap';
import OpenAI, { type APIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { outcomeFor } from '../helpers/outcome-recorder.js';
import { CLIENT_KEY, OPENAI_KEY, startUnified } from '../helpers/unified.js';

const setup = await startUnified(t);
const client = setup.client();
const hello = [{ role: 'user' as const, content: 'Hello' }];

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

const text = (chunks: ChatCompletionChunk[]): string => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

t.test('non-streamed to Anthropic: translated reply, exact usage, outcome names the provider', async (t) => {
  const { data, response } = await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: hello, max_tokens: 300 }).withResponse();
  t.equal(data.object, 'chat.completion');
  t.equal(data.choices[0].message.content, setup.anthropic.text);
  t.equal(data.choices[0].finish_reason, 'stop');
  t.same(data.usage, { prompt_tokens: 3534, completion_tokens: 56, total_tokens: 3590, prompt_tokens_details: { cached_tokens: 2000 } });
  const sent = JSON.parse(setup.anthropic.last!.body.toString()) as Record<string, unknown>;
  t.equal(sent.max_tokens, 300);
  t.equal(setup.anthropic.last!.headers['x-api-key'], 'sk-ant-gateway-0000000000000000');
  t.notOk(JSON.stringify(setup.anthropic.last!.headers).includes(CLIENT_KEY), 'the client key never reaches Anthropic');
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  t.equal(rec.outcome.provider, 'anthropic');
  t.equal(rec.outcome.model, 'claude-sonnet-4-5');
  t.equal(rec.kind, 'generation');
  t.equal(rec.maxOutputTokens, 300);
  t.same(rec.outcome.usage, { inputTokens: 1234, outputTokens: 56, cacheCreationTokens: 300, cacheReadTokens: 2000 });
  t.equal(rec.outcome.status, 200);
});

t.test('the default max_tokens comes from the provider config', async (t) => {
  await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: hello });
  t.equal(JSON.parse(setup.anthropic.last!.body.toString()).max_tokens, 2048);
});

t.test('non-streamed to OpenAI: passed on with the gateway key, cached tokens counted apart', async (t) => {
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: hello }).withResponse();
  t.equal(data.choices[0].message.content, setup.openai.text);
  t.equal(setup.openai.last!.headers.authorization, `Bearer ${OPENAI_KEY}`);
  t.same(setup.openai.lastJson(), { model: 'gpt-4o', messages: hello }, 'the body is forwarded unchanged');
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  t.equal(rec.outcome.provider, 'openai');
  t.same(rec.outcome.usage, { inputTokens: 476, outputTokens: 42, cacheCreationTokens: 0, cacheReadTokens: 1024 });
});

for (const target of ['claude-sonnet-4-5', 'gpt-4o']) {
  const provider = target.startsWith('claude') ? 'anthropic' : 'openai';
  const usage = provider === 'anthropic' ? { inputTokens: 1234, outputTokens: 56, cacheCreationTokens: 300, cacheReadTokens: 2000 } : { inputTokens: 476, outputTokens: 42, cacheCreationTokens: 0, cacheReadTokens: 1024 };

  t.test(`stream without include_usage (${provider}): no usage chunk reaches the client, tokens still counted`, async (t) => {
    const { data, response } = await client.chat.completions.create({ model: target, messages: hello, stream: true }).withResponse();
    const chunks = await collect(data);
    t.ok(chunks.length > 3);
    t.equal(text(chunks), provider === 'anthropic' ? setup.anthropic.text : setup.openai.text);
    t.notOk(chunks.some((c) => c.choices.length === 0), 'no usage-only chunk');
    t.notOk(chunks.some((c) => c.usage), 'no usage anywhere');
    t.equal(chunks.at(-1)!.choices[0].finish_reason, 'stop');
    if (provider === 'openai') t.same(setup.openai.lastJson().stream_options, { include_usage: true }, 'the one rewrite: usage asked upstream');
    const rec = await outcomeFor(response.headers.get('x-request-id')!);
    t.equal(rec.outcome.provider, provider);
    t.equal(rec.outcome.stream, true);
    t.same(rec.outcome.usage, usage);
  });

  t.test(`stream with include_usage (${provider}): the final usage chunk is there`, async (t) => {
    const { data, response } = await client.chat.completions.create({ model: target, messages: hello, stream: true, stream_options: { include_usage: true } }).withResponse();
    const chunks = await collect(data);
    const last = chunks.at(-1)!;
    t.same(last.choices, []);
    t.equal(last.usage?.completion_tokens, provider === 'anthropic' ? 56 : 42);
    t.equal(last.usage?.prompt_tokens_details?.cached_tokens, provider === 'anthropic' ? 2000 : 1024);
    const rec = await outcomeFor(response.headers.get('x-request-id')!);
    t.same(rec.outcome.usage, usage);
  });
}

t.test('tools round trip through Anthropic: tool_calls out, tool result back as tool_result', async (t) => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } }];
  const first = await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools });
  const call = first.choices[0].message.tool_calls?.[0];
  t.equal(first.choices[0].finish_reason, 'tool_calls');
  t.equal(call?.type, 'function');
  if (call?.type !== 'function') return;
  t.equal(call.function.name, 'get_weather');
  t.same(JSON.parse(call.function.arguments), { location: 'Paris, France', unit: 'celsius' });
  const second = await client.chat.completions.create({
    model: 'claude-sonnet-4-5',
    tools,
    messages: [{ role: 'user', content: 'Weather in Paris?' }, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '18°C' }],
  });
  t.equal(second.choices[0].message.role, 'assistant');
  const sent = JSON.parse(setup.anthropic.last!.body.toString()) as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
  t.same(sent.messages[1].content.find((b) => b.type === 'tool_use'), { type: 'tool_use', id: call.id, name: 'get_weather', input: { location: 'Paris, France', unit: 'celsius' } });
  t.same(sent.messages[2].content[0], { type: 'tool_result', tool_use_id: call.id, content: '18°C' });
});

t.test('streamed tool calls keep a stable index (Anthropic and OpenAI)', async (t) => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
  for (const model of ['claude-sonnet-4-5', 'gpt-4o']) {
    const chunks = await collect(await client.chat.completions.create({ model, messages: hello, tools, stream: true }));
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    t.ok(deltas.every((d) => d.index === 0), `${model}: one tool call, index 0`);
    t.same(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join('')), { location: 'Paris, France', unit: 'celsius' }, model);
    t.equal(chunks.at(-1)!.choices[0].finish_reason, 'tool_calls');
  }
});

t.test('image input: a data URL becomes an Anthropic base64 image block', async (t) => {
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
  await client.chat.completions.create({
    model: 'claude-sonnet-4-5',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }],
  });
  const sent = JSON.parse(setup.anthropic.last!.body.toString()) as { messages: Array<{ content: unknown[] }> };
  t.same(sent.messages[0].content[1], { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } });
});

t.test('errors surface as the SDK classes', async (t) => {
  setup.openai.nextError = { status: 429, headers: { 'retry-after': '3' }, body: { error: { message: 'Rate limit reached for gpt-4o', type: 'requests', param: null, code: 'rate_limit_exceeded' } } };
  const upstream429 = await client.chat.completions.create({ model: 'gpt-4o', messages: hello }).catch((e: unknown) => e);
  t.type(upstream429, OpenAI.RateLimitError, 'OpenAI upstream 429');
  t.equal((upstream429 as APIError).message, '429 Rate limit reached for gpt-4o', 'passed through unchanged');

  setup.anthropic.nextError = { status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your rate limit', headers: { 'retry-after': '11' } };
  const anthropic429 = await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: hello }).catch((e: unknown) => e);
  t.type(anthropic429, OpenAI.RateLimitError, 'Anthropic upstream 429, translated');
  t.equal((anthropic429 as APIError).headers?.get('retry-after'), '11');
  t.equal((anthropic429 as APIError).code, 'rate_limit_exceeded');

  setup.anthropic.nextError = { status: 529, type: 'overloaded_error', message: 'Overloaded' };
  const overloaded = await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: hello }).catch((e: unknown) => e);
  t.type(overloaded, OpenAI.InternalServerError, 'Anthropic 529 overloaded');
  t.equal((overloaded as APIError).status, 503);

  const gateway429 = await setup.client({ 'x-test-reject': 'rate' }).chat.completions.create({ model: 'claude-sonnet-4-5', messages: hello }).catch((e: unknown) => e);
  t.type(gateway429, OpenAI.RateLimitError, "the gateway's own 429");
  t.equal((gateway429 as APIError).headers?.get('retry-after'), '7');
  t.equal((gateway429 as APIError).code, 'rate_limit_exceeded');

  const notFound = await client.chat.completions.create({ model: 'no-such-model', messages: hello }).catch((e: unknown) => e);
  t.type(notFound, OpenAI.NotFoundError);
  t.equal((notFound as APIError).code, 'model_not_found');
  t.match((notFound as APIError).message, /\/v1\/models/);

  const noChat = await client.chat.completions.create({ model: 'echo-1', messages: hello }).catch((e: unknown) => e);
  t.type(noChat, OpenAI.BadRequestError, 'a provider without chat is a clear 400');
  t.match((noChat as APIError).message, /echo.*does not serve/);

  const badField = await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: hello, n: 2 }).catch((e: unknown) => e);
  t.type(badField, OpenAI.BadRequestError, 'a field Anthropic cannot honour');
  t.equal((badField as APIError).param, 'n');
});

t.test('an unreachable upstream is a 502 InternalServerError in OpenAI shape', async (t) => {
  const other = await startUnified(t);
  await other.anthropic.close();
  const down = await other.client().chat.completions.create({ model: 'claude-sonnet-4-5', messages: hello }).catch((e: unknown) => e);
  t.type(down, OpenAI.InternalServerError);
  t.equal((down as APIError).status, 502);
  t.equal((down as APIError).type, 'server_error');
});
