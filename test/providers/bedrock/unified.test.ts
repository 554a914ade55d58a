/**
 * The `openai` SDK through the unified `/v1/chat/completions` to the Bedrock mock:
 * Bedrock model ids (with `:`, inference profiles, ARNs) route to Bedrock and are served
 * through Converse, signed with the gateway's credentials (verified by the mock's own
 * SigV4 checker); replies and ConverseStreams are translated as frames arrive; tools
 * round-trip; images are data URLs only; usage is the metadata event's, exactly; Bedrock
 * errors are the SDK's classes and an exception frame mid-stream is an error the client sees.
 */
import t from 'tap';
import OpenAI, { type APIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { BedrockMock, MOCK_TOOL_USE, MOCK_USAGE } from '../../mocks/bedrock-mock.js';
import { parseAuthorization } from '../../mocks/sigv4-check.js';
import { startGateway } from '../../helpers/gateway.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../../helpers/outcome-recorder.js';
import { GATEWAY_CREDS, PROFILE_ARN } from '../../helpers/bedrock.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const CLIENT_KEY = 'sk-client-never-upstream-000000000';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const toUsage = (u: { input: number; output: number; cacheRead: number; cacheWrite: number }) => ({ inputTokens: u.input, outputTokens: u.output, cacheReadTokens: u.cacheRead, cacheCreationTokens: u.cacheWrite });
const toOpenAIUsage = (u: { input: number; output: number; cacheRead: number; cacheWrite: number }) => {
  const prompt = u.input + u.cacheRead + u.cacheWrite;
  return { prompt_tokens: prompt, completion_tokens: u.output, total_tokens: prompt + u.output, prompt_tokens_details: { cached_tokens: u.cacheRead } };
};

const mock = await BedrockMock.start([GATEWAY_CREDS]);
t.teardown(() => mock.close());
const gw = await startGateway(t, `
providers:
  bedrock:
    region: us-east-1
    base_url: ${mock.url}
    access_key_id: "${GATEWAY_CREDS.accessKeyId}"
    secret_access_key: "${GATEWAY_CREDS.secretAccessKey}"
filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
`);
const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 });
const hello = [{ role: 'user' as const, content: 'Hello' }];
const sentJson = (): Record<string, unknown> => JSON.parse(mock.last!.body.toString('utf8')) as Record<string, unknown>;

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

t.test('non-streamed: Converse with the gateway signature, translated reply, exact usage', async (t) => {
  const { data, response } = await client.chat.completions.create({ model: HAIKU, messages: [{ role: 'system', content: 'Be brief.' }, ...hello], max_tokens: 300, temperature: 0.5 }).withResponse();
  t.equal(data.object, 'chat.completion');
  t.equal(data.model, HAIKU);
  t.equal(data.choices[0].message.content, mock.text);
  t.equal(data.choices[0].finish_reason, 'stop');
  t.same(data.usage, toOpenAIUsage(MOCK_USAGE.converse));
  const req = mock.last!;
  t.equal(req.url, '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
  t.equal(req.modelId, HAIKU);
  t.equal(req.accessKeyId, GATEWAY_CREDS.accessKeyId, 'the mock verified a SigV4 signature made with the gateway credentials');
  const auth = parseAuthorization(req.headers.authorization);
  t.same(auth?.scope.region, 'us-east-1');
  t.ok(auth?.signedHeaders.includes('host') && auth.signedHeaders.includes('x-amz-content-sha256'));
  t.notOk(JSON.stringify(req.headers).includes(CLIENT_KEY), 'the client key never reaches Bedrock');
  t.same(sentJson(), { messages: [{ role: 'user', content: [{ text: 'Hello' }] }], system: [{ text: 'Be brief.' }], inferenceConfig: { maxTokens: 300, temperature: 0.5 } });
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  t.equal(rec.outcome.provider, 'bedrock');
  t.equal(rec.model, HAIKU);
  t.equal(rec.maxOutputTokens, 300);
  t.same(rec.outcome.usage, toUsage(MOCK_USAGE.converse));
  t.equal(rec.outcome.error, undefined);
});

t.test('streamed, with and without include_usage: chunks, finish, usage from the metadata event', async (t) => {
  for (const includeUsage of [false, true]) {
    const { data, response } = await client.chat.completions.create({ model: HAIKU, messages: hello, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) }).withResponse();
    t.match(response.headers.get('content-type'), /^text\/event-stream/);
    const chunks = await collect(data);
    t.equal(mock.last!.url, '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream');
    t.equal(mock.last!.accessKeyId, GATEWAY_CREDS.accessKeyId);
    t.equal(mock.last!.headers.accept, 'application/vnd.amazon.eventstream');
    t.equal(chunks[0].choices[0].delta.role, 'assistant');
    t.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), mock.text);
    t.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === HAIKU && c.id === chunks[0].id));
    t.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'stop');
    if (includeUsage) {
      t.same(chunks.at(-1)!.choices, []);
      t.same(chunks.at(-1)!.usage, toOpenAIUsage(MOCK_USAGE.converseStream));
    } else t.notOk(chunks.some((c) => c.usage), 'no usage unasked');
    const rec = await outcomeFor(response.headers.get('x-request-id')!);
    t.same(rec.outcome.usage, toUsage(MOCK_USAGE.converseStream), `include_usage ${includeUsage}: usage counted either way`);
    t.equal(rec.outcome.stream, true);
    t.equal(rec.outcome.error, undefined);
  }
});

t.test('streamed chunks reach the client while upstream is still sending (nothing buffered)', async (t) => {
  let release!: () => void;
  mock.streamGate = { after: 3, release: new Promise<void>((r) => (release = r)) };
  t.teardown(() => {
    release();
    mock.streamGate = undefined;
  });
  const stream = await client.chat.completions.create({ model: HAIKU, messages: hello, stream: true });
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  t.equal(first.value?.choices[0].delta.role, 'assistant', 'the first chunk arrived before upstream finished');
  release();
  const rest: ChatCompletionChunk[] = [first.value!];
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
  t.equal(rest.map((c) => c.choices[0]?.delta.content ?? '').join(''), mock.text);
});

t.test('tools: a toolUse comes back as tool_calls, the tool result goes back as toolResult', async (t) => {
  const parameters = { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] };
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters } }];
  const first = await client.chat.completions.create({ model: HAIKU, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'required' });
  t.same(sentJson().toolConfig, { tools: [{ toolSpec: { name: 'get_weather', description: 'Current weather', inputSchema: { json: parameters } } }], toolChoice: { any: {} } });
  t.equal(first.choices[0].finish_reason, 'tool_calls');
  const call = first.choices[0].message.tool_calls?.[0];
  if (call?.type !== 'function') return t.fail('a function call');
  t.equal(call.id, MOCK_TOOL_USE.toolUseId);
  t.equal(call.function.name, 'get_weather');
  t.same(JSON.parse(call.function.arguments), MOCK_TOOL_USE.input);
  const second = await client.chat.completions.create({
    model: HAIKU,
    tools,
    messages: [{ role: 'user', content: 'Weather in Paris?' }, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '18°C and sunny' }],
  });
  const sent = sentJson() as { messages: Array<{ role: string; content: unknown[] }> };
  t.same(sent.messages[1], { role: 'assistant', content: [{ toolUse: { toolUseId: MOCK_TOOL_USE.toolUseId, name: 'get_weather', input: MOCK_TOOL_USE.input } }] });
  t.same(sent.messages[2], { role: 'user', content: [{ toolResult: { toolUseId: MOCK_TOOL_USE.toolUseId, content: [{ text: '18°C and sunny' }] } }] });
  t.equal(second.choices[0].message.content, mock.text);
});

t.test('streamed tool call: stable index 0, id and name first, arguments in deltas', async (t) => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
  const chunks = await collect(await client.chat.completions.create({ model: HAIKU, messages: hello, tools, stream: true }));
  const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  t.ok(deltas.length >= 2);
  t.ok(deltas.every((d) => d.index === 0));
  t.equal(deltas[0].id, MOCK_TOOL_USE.toolUseId);
  t.equal(deltas[0].function?.name, 'get_weather');
  t.same(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join('')), MOCK_TOOL_USE.input);
  t.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
});

t.test('images: a data URL becomes image bytes; a remote URL is a 400 and nothing is sent', async (t) => {
  await client.chat.completions.create({ model: HAIKU, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }] });
  const content = (sentJson() as { messages: Array<{ content: unknown[] }> }).messages[0].content;
  t.same(content, [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: PNG } } }]);
  const before = mock.requests.length;
  const bad = await client.chat.completions.create({ model: HAIKU, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }).catch((e: unknown) => e);
  t.type(bad, OpenAI.BadRequestError);
  t.equal((bad as APIError).param, 'messages[0].content[0].image_url.url');
  t.match((bad as APIError).message, /base64 data URL/);
  t.equal(mock.requests.length, before, 'nothing was sent upstream');
});

t.test('an exception frame mid-stream: the text so far, then an SDK error; the outcome is a stream error', async (t) => {
  mock.streamException = { type: 'modelStreamErrorException', message: 'The model stream failed' };
  t.teardown(() => void (mock.streamException = undefined));
  const { data, response } = await client.chat.completions.create({ model: HAIKU, messages: hello, stream: true, stream_options: { include_usage: true } }).withResponse();
  const seen: ChatCompletionChunk[] = [];
  const err = await (async () => {
    for await (const c of data) seen.push(c);
  })().catch((e: unknown) => e);
  t.type(err, OpenAI.APIError);
  t.match((err as APIError).message, /The model stream failed/);
  t.equal(seen.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Hello', 'the text before the exception arrived');
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  t.equal(rec.outcome.status, 200);
  t.equal(rec.outcome.error?.kind, 'stream_error');
  t.match(rec.outcome.error?.message, /modelStreamErrorException: The model stream failed/);
});

t.test('upstream errors: ThrottlingException is a RateLimitError, ValidationException a BadRequestError', async (t) => {
  mock.nextError = { status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.', headers: { 'retry-after': '7' } };
  const limited = (await client.chat.completions.create({ model: HAIKU, messages: hello }).catch((e: unknown) => e)) as APIError;
  t.type(limited, OpenAI.RateLimitError);
  t.equal(limited.code, 'rate_limit_exceeded');
  t.equal(limited.headers?.get('retry-after'), '7');
  t.match(limited.message, /Too many requests/);
  t.equal(mock.last!.accessKeyId, GATEWAY_CREDS.accessKeyId, 'the failed call was signed as well');
  mock.nextError = { status: 400, type: 'ValidationException', message: 'The provided model identifier is invalid.' };
  const invalid = await client.chat.completions.create({ model: 'anthropic.nope-v1:0', messages: hello, stream: true }).catch((e: unknown) => e);
  t.type(invalid, OpenAI.BadRequestError, 'a streamed request fails before the stream with the same mapping');
  t.match((invalid as APIError).message, /model identifier is invalid/);
});

t.test('routing: Bedrock ids with ":" , inference profiles and ARNs go to Bedrock; mistral-* does not', async (t) => {
  const ids = ['anthropic.claude-3-sonnet-20240229-v1:0', 'us.anthropic.claude-3-5-sonnet-20241022-v2:0', 'eu.anthropic.claude-3-haiku-20240307-v1:0', 'amazon.nova-lite-v1:0', 'meta.llama3-8b-instruct-v1:0', 'mistral.mistral-large-2402-v1:0', PROFILE_ARN, 'global.anthropic.claude-opus-4-6-v1', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'jp.anthropic.claude-sonnet-4-6'];
  for (const model of ids) {
    const { data, response } = await client.chat.completions.create({ model, messages: hello }).withResponse();
    t.equal(mock.last!.modelId, model, `${model} reached Bedrock`);
    t.equal(mock.last!.url, `/model/${encodeURIComponent(model)}/converse`);
    t.equal(data.model, model);
    t.equal((await outcomeFor(response.headers.get('x-request-id')!)).outcome.provider, 'bedrock');
  }
  const before = mock.requests.length;
  const other = await client.chat.completions.create({ model: 'mistral-large-latest', messages: hello }).catch((e: unknown) => e);
  t.type(other, OpenAI.NotFoundError, 'mistral-* is the Mistral API, not Bedrock');
  t.equal(mock.requests.length, before);
  const listed = await client.models.list();
  t.ok(listed.data.some((m) => m.id === HAIKU && m.owned_by === 'bedrock'));
});

t.test('a prompt outside ASCII, raw or escaped as Python writes it, is sent as the client wrote its text', async (t) => {
  const prompt = 'Résumé → ✓, 中文, 😀';
  const request = { model: HAIKU, messages: [{ role: 'system', content: 'Réponds.' }, { role: 'user', content: prompt }], max_tokens: 100 };
  const raw = JSON.stringify(request);
  const escaped = raw.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  for (const body of [raw, escaped]) {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    t.equal(res.status, 200);
    t.equal(mock.last!.accessKeyId, GATEWAY_CREDS.accessKeyId, 'signed over the bytes sent');
    t.same(sentJson(), { messages: [{ role: 'user', content: [{ text: prompt }] }], system: [{ text: 'Réponds.' }], inferenceConfig: { maxTokens: 100 } });
  }
});

t.test('a long prompt goes as the client wrote it (its literal copied), signed over those bytes', async (t) => {
  // Long enough for the body scanner (8 KiB); `\/` is an escape JSON.stringify never writes.
  const written = 'see src\\/index.ts — “café” → 😀\\n'.repeat(400);
  const body = `{"model":"${HAIKU}","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"${written}"}],"max_tokens":100}`;
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  t.equal(res.status, 200);
  t.equal(mock.last!.accessKeyId, GATEWAY_CREDS.accessKeyId, 'the signature verified over the bytes sent');
  t.ok(mock.last!.body.toString('utf8').includes(`"text":"${written}"`), "the prompt's bytes as the client wrote them");
  const prompt = (JSON.parse(body) as { messages: Array<{ content: string }> }).messages[1].content;
  t.same(sentJson(), { messages: [{ role: 'user', content: [{ text: prompt }] }], system: [{ text: 'Be brief.' }], inferenceConfig: { maxTokens: 100 } });
});
