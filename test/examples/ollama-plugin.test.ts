/**
 * The Ollama example plugin, loaded from config by module path as any third-party plugin
 * is, serving the unified endpoint against a local Ollama mock: chat, streaming and tools
 * through the `openai` SDK, usage, health and the provider listing; a broken variant fails
 * the config load with a message that says what to fix.
 */
import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { ConfigError } from '../../core/index.js';
import { OllamaMock, OLLAMA_USAGE } from '../mocks/ollama-mock.js';
import { startGateway } from '../helpers/gateway.js';
import { call } from '../helpers/http.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../helpers/outcome-recorder.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PLUGIN = path.join(repo, 'examples/plugins/ollama/index.js');
const BROKEN = path.join(repo, 'test/fixtures/plugins/ollama-broken.js');
const CLIENT_KEY = 'sk-client-for-ollama-000000000000';

const mock = await OllamaMock.start();
t.teardown(() => mock.close());
const gw = await startGateway(t, `
providers:
  ollama:
    plugin: ${PLUGIN}
    base_url: ${mock.url}
    models: [llama3.2, qwen2.5-coder:7b]
filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
`);
const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 });
const usage = { inputTokens: OLLAMA_USAGE.prompt_tokens, outputTokens: OLLAMA_USAGE.completion_tokens, cacheCreationTokens: 0, cacheReadTokens: 0 };

t.test('chat: routed by model name, forwarded as sent, no credential upstream, usage counted', async (t) => {
  const { data, response } = await client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.2 }).withResponse();
  t.equal(data.choices[0].message.content, mock.text);
  t.same(mock.lastJson(), { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.2 });
  t.equal(mock.last!.headers.authorization, undefined, "the client's key does not reach Ollama");
  t.notOk(JSON.stringify(mock.last!.headers).includes(CLIENT_KEY));
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  t.equal(rec.outcome.provider, 'ollama');
  t.same(rec.outcome.usage, usage);
});

t.test('streaming: chunks pass through as they come; usage when the client asks for it', async (t) => {
  const { data, response } = await client.chat.completions.create({ model: 'qwen2.5-coder:7b', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } }).withResponse();
  const chunks = [];
  for await (const c of data) chunks.push(c);
  t.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), mock.text);
  t.equal(chunks.at(-1)!.usage?.completion_tokens, OLLAMA_USAGE.completion_tokens);
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  t.equal(rec.outcome.stream, true);
  t.same(rec.outcome.usage, usage);
});

t.test('tools: the OpenAI format passes both ways, streamed or not', async (t) => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const whole = await client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'Weather?' }], tools });
  const call0 = whole.choices[0].message.tool_calls?.[0];
  t.equal(whole.choices[0].finish_reason, 'tool_calls');
  t.equal(call0?.type === 'function' ? call0.function.arguments : '', '{"city":"Zürich"}');
  t.same((mock.lastJson().tools as unknown[])[0], tools[0]);
  const chunks = [];
  for await (const c of await client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'Weather?' }], tools, stream: true })) chunks.push(c);
  const delta = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])[0];
  t.equal(delta?.function?.name, 'get_weather');
  t.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
});

t.test("Ollama's own errors reach the SDK; an unreachable Ollama is a 502", async (t) => {
  const notFound = await client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] }, { headers: { 'x-provider': 'ollama' } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.equal(notFound, undefined, 'a configured model works with X-Provider too');
  const unknown = await client.chat.completions.create({ model: 'phi4', messages: [{ role: 'user', content: 'Hi' }] }, { headers: { 'x-provider': 'ollama' } }).catch((e: unknown) => e);
  t.type(unknown, OpenAI.NotFoundError);
  t.match((unknown as Error).message, /try pulling it first/);
  const down = await startGateway(t, `providers:\n  ollama:\n    plugin: ${PLUGIN}\n    base_url: http://127.0.0.1:9\n    models: [llama3.2]\n`);
  const err = await new OpenAI({ apiKey: 'x', baseURL: `${down.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
  t.type(err, OpenAI.InternalServerError);
  t.equal((err as { status?: number }).status, 502);
  const health = await call(`${down.url}/v1/ollama/health`);
  t.equal(health.json<{ status: string }>().status, 'down');
});

t.test('listed, healthy, and its models on /v1/models', async (t) => {
  const list = await call(`${gw.url}/v1/providers`);
  const entry = list.json<{ providers: Array<Record<string, unknown>> }>().providers.find((p) => p.name === 'ollama')!;
  t.equal(entry.route_prefix, '/v1/ollama');
  t.equal(entry.configured, true);
  const health = await call(`${gw.url}/v1/ollama/health`);
  t.equal(health.status, 200);
  t.match(health.text, /ollama 0\.9\.6/);
  const models = await client.models.list();
  t.same(models.data.map((m) => m.id), ['llama3.2', 'qwen2.5-coder:7b']);
});

t.test('a broken variant fails the config load and says what to fix', async (t) => {
  const err = await startGateway(t, `providers:\n  ollama:\n    plugin: ${BROKEN}\n    base_url: ${mock.url}\n`).catch((e: unknown) => e);
  t.type(err, ConfigError);
  t.match((err as Error).message, /provider "ollama": create\(\) must return a Provider with models\(\), health\(\) and a dialect with renderError\(\)/);
  const badConfig = await startGateway(t, `providers:\n  ollama:\n    plugin: ${PLUGIN}\n    base_url: localhost:11434\n`).catch((e: unknown) => e);
  t.type(badConfig, ConfigError);
  t.match((badConfig as Error).message, /providers\.ollama\.base_url/);
});

t.test('a plugin that does not opt in to bytes gets the text of a prompt outside ASCII', async (t) => {
  const messages = [{ role: 'user' as const, content: 'Résumé → ✓, 中文, 😀' }];
  await client.chat.completions.create({ model: 'llama3.2', messages });
  t.same(mock.lastJson(), { model: 'llama3.2', messages }, 'what it re-serialised is the text, in UTF-8');
});
