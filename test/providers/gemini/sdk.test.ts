/**
 * The real `@google/genai` SDK through `/v1/gemini` to the Gemini mock: generate, stream
 * and count tokens unmodified; the gateway's key reaches the mock and the client's never
 * does (header or `?key=`); usage is the last usageMetadata with thoughts as output; a
 * stream cut mid-way ends with an error the SDK raises; errors keep Google's shape.
 */
import t from 'tap';
import { ApiError, GoogleGenAI } from '@google/genai';
import { GeminiMock, GEMINI_USAGE, THOUGHT_SIGNATURE } from '../../mocks/gemini-mock.js';
import { startGateway } from '../../helpers/gateway.js';
import { call } from '../../helpers/http.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../../helpers/outcome-recorder.js';

const GATEWAY_KEY = 'AIza-gateway-key-000000000000000000';
const CLIENT_KEY = 'AIza-client-key-must-never-leave-00';
const EXPECTED_USAGE = { inputTokens: 500, outputTokens: 65, cacheCreationTokens: 0, cacheReadTokens: 1000 };

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
const ai = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: `${gw.url}/v1/gemini` } });

let seq = 0;
/** A request id of our own, sent as `x-request-id`: the gateway keeps it and the outcome recorder is keyed by it. */
function rid(): { id: string; httpOptions: { headers: Record<string, string> } } {
  const id = `gemini-sdk-test-${++seq}`;
  return { id, httpOptions: { headers: { 'x-request-id': id } } };
}

function checkCredentials(tt: Pick<typeof t, "equal" | "notOk">): void {
  const seen = mock.last!;
  tt.equal(seen.headers['x-goog-api-key'], GATEWAY_KEY, 'the gateway key is sent');
  tt.notOk(JSON.stringify(seen.headers).includes(CLIENT_KEY), "the client's key is not in any header");
  tt.notOk(seen.url.includes(CLIENT_KEY), "the client's key is not in the URL");
}

t.test('generateContent: unmodified SDK, gateway key, exact usage', async (t) => {
  const r = rid();
  const res = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello', config: { maxOutputTokens: 300, httpOptions: r.httpOptions } });
  t.equal(res.text, mock.text);
  t.equal(res.candidates?.[0].finishReason, 'STOP');
  t.equal(mock.last!.url, '/v1beta/models/gemini-2.5-flash:generateContent');
  checkCredentials(t);
  const rec = await outcomeFor(r.id);
  t.equal(rec.outcome.provider, 'gemini');
  t.equal(rec.model, 'gemini-2.5-flash');
  t.equal(rec.kind, 'generation');
  t.equal(rec.maxOutputTokens, 300);
  t.equal(rec.outcome.stream, false);
  t.same(rec.outcome.usage, EXPECTED_USAGE);
});

t.test('generateContentStream: alt=sse passes, chunks arrive, usage is the last chunk, not the sum', async (t) => {
  const r = rid();
  const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hello', config: { httpOptions: r.httpOptions } });
  const texts: string[] = [];
  let finish: string | undefined;
  for await (const chunk of stream) {
    texts.push(chunk.text ?? '');
    finish = chunk.candidates?.[0].finishReason ?? finish;
  }
  t.ok(texts.length > 3, 'several chunks');
  t.equal(texts.join(''), mock.text);
  t.equal(finish, 'STOP');
  t.equal(mock.last!.url, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  checkCredentials(t);
  const rec = await outcomeFor(r.id);
  t.equal(rec.outcome.stream, true);
  t.same(rec.outcome.usage, EXPECTED_USAGE, `prompt ${GEMINI_USAGE.promptTokenCount} − cached, candidates + thoughts`);
  t.equal(rec.outcome.error, undefined);
});

t.test('function calling passes through with its thought signature', async (t) => {
  const res = await ai.models.generateContent({
    model: 'gemini-2.5-flash',
    contents: 'Weather in Paris?',
    config: { tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object', properties: { location: { type: 'string' } } } }] }] },
  });
  t.same(res.functionCalls?.[0], { name: 'get_weather', args: { location: 'Paris, France', unit: 'celsius' } });
  t.equal(res.candidates?.[0].content?.parts?.[0].thoughtSignature, THOUGHT_SIGNATURE);
  t.same((mock.lastJson().tools as unknown[])[0], { functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object', properties: { location: { type: 'string' } } } }] }, 'the body went byte for byte');
});

t.test('countTokens is auxiliary and passes', async (t) => {
  const r = rid();
  const res = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'Hello there', config: { httpOptions: r.httpOptions } });
  t.equal(res.totalTokens, 31);
  t.equal(mock.last!.url, '/v1beta/models/gemini-2.5-flash:countTokens');
  checkCredentials(t);
  const rec = await outcomeFor(r.id);
  t.equal(rec.kind, 'auxiliary');
  t.same(rec.outcome.usage, { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 });
});

t.test('model list and get, v1beta and v1', async (t) => {
  const pager = await ai.models.list();
  const names: string[] = [];
  for await (const m of pager) names.push(m.name ?? '');
  t.same(names, ['models/gemini-2.5-flash', 'models/gemini-2.5-pro']);
  const one = await ai.models.get({ model: 'gemini-2.5-pro' });
  t.equal(one.name, 'models/gemini-2.5-pro');
  const v1 = await call(`${gw.url}/v1/gemini/v1/models`, { headers: { 'x-goog-api-key': CLIENT_KEY } });
  t.equal(v1.status, 200);
  t.equal(mock.last!.url, '/v1/models');
});

t.test('?key= is removed from the query, other parameters kept as sent', async (t) => {
  const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
  const res = await call(`${gw.url}/v1/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=${CLIENT_KEY}&alt=sse&x=a%20b`, { body });
  t.equal(res.status, 200);
  t.match(res.text, /"finishReason":"STOP"/);
  t.equal(mock.last!.url, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&x=a%20b');
  checkCredentials(t);
  const bare = await call(`${gw.url}/v1/gemini/models/gemini-2.5-flash:generateContent?%6Bey=${CLIENT_KEY}`, { body });
  t.equal(bare.status, 200, 'a bare /models path gets v1beta');
  t.equal(mock.last!.url, '/v1beta/models/gemini-2.5-flash:generateContent', 'an encoded key name is removed too');
});

t.test('traversal is refused before anything is forwarded', async (t) => {
  const before = mock.requests.length;
  for (const p of ['/v1beta/models/..%2fx:generateContent', '/v1beta/models/%252e%252e/x', '/v1beta/files/a%5C..%5Cb']) {
    const res = await call(`${gw.url}/v1/gemini${p}`, { body: '{}' });
    t.equal(res.status, 400, p);
    t.equal(res.json<{ error: { status: string } }>().error.status, 'INVALID_ARGUMENT');
  }
  const unknown = await call(`${gw.url}/v1/gemini/etc/passwd`);
  t.equal(unknown.status, 404);
  t.equal(unknown.json<{ error: { status: string } }>().error.status, 'NOT_FOUND');
  t.equal(mock.requests.length, before);
});

t.test('upstream errors reach the SDK unchanged as ApiError', async (t) => {
  mock.nextError = { status: 429, body: { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } } };
  const err = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).catch((e: unknown) => e);
  t.type(err, ApiError);
  t.equal((err as ApiError).status, 429);
  t.match((err as ApiError).message, /RESOURCE_EXHAUSTED/);
});

t.test('a stream cut by an upstream reset ends with an error the SDK raises', async (t) => {
  mock.cutStream = { after: 3, how: 'reset' };
  const r = rid();
  const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hello', config: { httpOptions: r.httpOptions } });
  const texts: string[] = [];
  const err = await (async () => {
    for await (const chunk of stream) texts.push(chunk.text ?? '');
  })().catch((e: unknown) => e);
  t.equal(texts.length, 3, 'the whole chunks before the cut arrived');
  t.type(err, ApiError);
  t.equal((err as ApiError).status, 502);
  t.match((err as ApiError).message, /UNAVAILABLE/);
  const rec = await outcomeFor(r.id);
  t.equal(rec.outcome.error?.kind, 'upstream_error');
});

t.test('a stream that ends cleanly without a finishReason is not passed off as complete', async (t) => {
  mock.cutStream = { after: 2, how: 'end' };
  const res = await call(`${gw.url}/v1/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
  });
  const events = res.text.split(/\r?\n\r?\n/).filter((e) => e !== '');
  t.equal(events.length, 3, 'two chunks and an error event');
  const last = JSON.parse(events[2].replace(/^data: /, '')) as { error: { code: number; status: string; message: string } };
  t.equal(last.error.code, 502);
  t.equal(last.error.status, 'UNAVAILABLE');
  t.match(last.error.message, /finishReason/);
});

t.test('gateway errors speak Google: an unconfigured provider is 503 UNAVAILABLE', async (t) => {
  const other = await startGateway(t, `providers:\n  gemini:\n    base_url: ${mock.url}\n`);
  const sdk = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: `${other.url}/v1/gemini`, retryOptions: { attempts: 1 } } });
  const err = await sdk.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).catch((e: unknown) => e);
  t.type(err, ApiError);
  t.equal((err as ApiError).status, 503);
  const body = JSON.parse((err as ApiError).message) as { error: { status: string; details: Array<{ reason?: string }> } };
  t.equal(body.error.status, 'UNAVAILABLE');
  t.equal(body.error.details[0].reason, 'GW_ERR_PROVIDER_UNCONFIGURED');
  const providers = await call(`${other.url}/v1/providers`);
  const entry = providers.json<{ providers: Array<Record<string, unknown>> }>().providers.find((p) => p.name === 'gemini')!;
  t.equal(entry.route_prefix, '/v1/gemini');
  t.equal(entry.status, 'unconfigured');
  const health = await call(`${gw.url}/v1/gemini/health`);
  t.equal(health.status, 200);
});
