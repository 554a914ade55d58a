/**
 * The `openai` SDK through the unified `/v1/chat/completions` to the Gemini mock:
 * gemini-* routes to Gemini, replies and streams are translated, tools round-trip with
 * their thought signature, images become inlineData / fileData, usage is exact (last
 * usageMetadata, thoughts as output), errors are the SDK's classes, and an upstream
 * failure mid-stream reaches the client as an error, never as a quiet end.
 */
import t from 'tap';
import OpenAI, { type APIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { GeminiMock, MODEL_VERSION, THOUGHT_SIGNATURE } from '../../mocks/gemini-mock.js';
import { startGateway } from '../../helpers/gateway.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../../helpers/outcome-recorder.js';

const GATEWAY_KEY = 'AIza-gateway-key-unified-0000000000';
const CLIENT_KEY = 'sk-client-never-upstream-000000000';
const USAGE = { inputTokens: 500, outputTokens: 65, cacheCreationTokens: 0, cacheReadTokens: 1000 };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const mock = await GeminiMock.start(GATEWAY_KEY);
t.teardown(() => mock.close());
const gw = await startGateway(t, `
providers:
  gemini:
    api_key: ${GATEWAY_KEY}
    base_url: ${mock.url}
filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
`);
const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 });
const hello = [{ role: 'user' as const, content: 'Hello' }];

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

t.test('non-streamed: translated reply, gateway key, exact usage', async (t) => {
  const { data, response } = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: hello, max_tokens: 300, temperature: 1.5 }).withResponse();
  t.equal(data.choices[0].message.content, mock.text);
  t.equal(data.choices[0].finish_reason, 'stop');
  t.equal(data.model, MODEL_VERSION);
  t.same(data.usage, { prompt_tokens: 1500, completion_tokens: 65, total_tokens: 1565, prompt_tokens_details: { cached_tokens: 1000 } });
  t.equal(mock.last!.url, '/v1beta/models/gemini-2.5-flash:generateContent');
  t.equal(mock.last!.headers['x-goog-api-key'], GATEWAY_KEY);
  t.notOk(JSON.stringify(mock.last!.headers).includes(CLIENT_KEY), 'the client key never reaches Gemini');
  t.same(mock.lastJson(), { contents: [{ role: 'user', parts: [{ text: 'Hello' }] }], generationConfig: { temperature: 1.5, maxOutputTokens: 300 } });
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  t.equal(rec.outcome.provider, 'gemini');
  t.equal(rec.maxOutputTokens, 300);
  t.same(rec.outcome.usage, USAGE);
});

t.test('streamed, with and without include_usage: text, finish, usage from the last chunk', async (t) => {
  for (const includeUsage of [false, true]) {
    const { data, response } = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: hello, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) }).withResponse();
    const chunks = await collect(data);
    t.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), mock.text);
    t.equal(mock.last!.url, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    t.equal(finish?.choices[0].finish_reason, 'stop');
    if (includeUsage) t.same(chunks.at(-1)!.usage, { prompt_tokens: 1500, completion_tokens: 65, total_tokens: 1565, prompt_tokens_details: { cached_tokens: 1000 } });
    else t.notOk(chunks.some((c) => c.usage), 'no usage unasked');
    const rec = await outcomeFor(response.headers.get('x-request-id')!);
    t.same(rec.outcome.usage, USAGE, 'the last usageMetadata, not the sum of all chunks');
    t.equal(rec.outcome.error, undefined);
  }
});

t.test('tools: a call out with its signature, the result back as functionResponse', async (t) => {
  const parameters = { type: 'object', properties: { location: { type: 'string' } }, additionalProperties: false };
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters } }];
  const first = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'required' });
  t.same(mock.lastJson().toolConfig, { functionCallingConfig: { mode: 'ANY' } });
  t.same((mock.lastJson().tools as unknown[])[0], { functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: parameters }] });
  const call = first.choices[0].message.tool_calls?.[0];
  t.equal(first.choices[0].finish_reason, 'tool_calls');
  if (call?.type !== 'function') return t.fail('a function call');
  t.same(JSON.parse(call.function.arguments), { location: 'Paris, France', unit: 'celsius' });
  await client.chat.completions.create({
    model: 'gemini-2.5-flash',
    tools,
    messages: [{ role: 'user', content: 'Weather in Paris?' }, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '18°C' }],
  });
  const sent = mock.lastJson() as { contents: Array<{ role: string; parts: Array<Record<string, unknown>> }> };
  t.same(sent.contents[1], { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris, France', unit: 'celsius' } }, thoughtSignature: THOUGHT_SIGNATURE }] }, 'the signature went back');
  t.same(sent.contents[2], { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: '18°C' } } }] });
});

t.test('streamed tool call: one delta with index 0 and whole arguments', async (t) => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
  const chunks = await collect(await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: hello, tools, stream: true }));
  const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  t.equal(deltas.length, 1);
  t.equal(deltas[0].index, 0);
  t.same(JSON.parse(deltas[0].function?.arguments ?? ''), { location: 'Paris, France', unit: 'celsius' });
  t.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
});

t.test('images: a data URL becomes inlineData, an https URL fileData, a typeless URL a clear 400', async (t) => {
  await client.chat.completions.create({
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }, { type: 'image_url', image_url: { url: 'https://example.com/a/cat.webp' } }] }],
  });
  const parts = (mock.lastJson() as { contents: Array<{ parts: unknown[] }> }).contents[0].parts;
  t.same(parts[1], { inlineData: { mimeType: 'image/png', data: PNG } });
  t.same(parts[2], { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/a/cat.webp' } });
  const before = mock.requests.length;
  const bad = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/render?id=1' } }] }] }).catch((e: unknown) => e);
  t.type(bad, OpenAI.BadRequestError);
  t.equal((bad as APIError).param, 'messages[0].content[0].image_url.url');
  t.match((bad as APIError).message, /base64 data URL/);
  t.equal(mock.requests.length, before, 'nothing was sent upstream');
});

t.test('upstream errors surface as the SDK classes', async (t) => {
  mock.nextError = { status: 429, body: { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '9s' }] } } };
  const limited = await client.chat.completions.create({ model: 'gemini-2.5-pro', messages: hello }).catch((e: unknown) => e);
  t.type(limited, OpenAI.RateLimitError);
  t.equal((limited as APIError).headers?.get('retry-after'), '9');
  t.equal((limited as APIError).code, 'rate_limit_exceeded');
  mock.nextError = { status: 503, body: { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } } };
  const overloaded = await client.chat.completions.create({ model: 'gemini-2.5-pro', messages: hello }).catch((e: unknown) => e);
  t.type(overloaded, OpenAI.InternalServerError);
});

t.test('an upstream failure mid-stream is an error the client sees, and the outcome says so', async (t) => {
  for (const how of ['reset', 'end'] as const) {
    mock.cutStream = { after: 2, how };
    const { data, response } = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: hello, stream: true }).withResponse();
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of data) seen.push(c.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    t.ok(err instanceof Error, `${how}: the SDK throws`);
    t.ok(seen.join('').length > 0, `${how}: the text before the cut arrived`);
    const rec = await outcomeFor(response.headers.get('x-request-id')!);
    t.ok(rec.outcome.error, `${how}: the outcome records an error (${rec.outcome.error?.kind})`);
  }
});

t.test('a prompt outside ASCII, raw or escaped as Python writes it, is sent as the client wrote its text', async (t) => {
  const prompt = 'Résumé → ✓, 中文, 😀';
  const request = { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: prompt }, { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://bücher.example/ä.png' } }] }] };
  const raw = JSON.stringify(request);
  const escaped = raw.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  for (const body of [raw, escaped]) {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    t.equal(res.status, 200);
    t.same(mock.lastJson(), { contents: [{ role: 'user', parts: [{ text: prompt }, { fileData: { mimeType: 'image/png', fileUri: 'https://bücher.example/ä.png' } }] }] });
  }
});

t.test('a long prompt goes as the client wrote it: its literal copied, not escaped again', async (t) => {
  // Long enough for the body scanner (8 KiB); `\/` is an escape JSON.stringify never writes.
  const written = 'see src\\/index.ts — “café” → 😀\\n'.repeat(400);
  const body = `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"${written}"}]}`;
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  t.equal(res.status, 200);
  const prompt = (JSON.parse(body) as { messages: Array<{ content: string }> }).messages[0].content;
  t.same(mock.lastJson(), { contents: [{ role: 'user', parts: [{ text: prompt }] }] });
  t.ok(mock.last!.body.toString('utf8').includes(`"text":"${written}"`), "the prompt's bytes as the client wrote them");
});
