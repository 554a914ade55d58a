/**
 * Whether a streamed answer is whole is the route's dialect's to say (`isWholeStream`, or
 * a `cacheConverter`), not a table of dialect names in the cache: a plugin's dialect that
 * says nothing has its streamed answers left unstored (a stream its upstream cut early,
 * cleanly, would otherwise be served to everyone as whole); its JSON answers, which must
 * parse, still are. Before, any dialect the cache did not know by name had every stream
 * stored. Built-in dialects declare theirs: units below.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { anthropicDialect } from '../../../providers/anthropic/dialect.js';
import { bedrockDialect } from '../../../providers/bedrock/dialect.js';
import { geminiDialect } from '../../../providers/gemini/dialect.js';
import { openaiDialect } from '../../../providers/openai/dialect.js';
import { isWholeAnswer } from '../../../filters/cache/complete.js';
import { anthropicEvents } from '../../proof/support/upstream.js';

const PLUGIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/sse-dialect-provider.ts');

async function gateway(t: { teardown(fn: () => unknown): void }, marker?: string) {
  const entry = marker === undefined ? `{ plugin: "${PLUGIN}" }` : `{ plugin: "${PLUGIN}", whole_stream_marker: ${marker} }`;
  const gw = await startGateway(t, `providers:
  sse: ${entry}
filters:
  - name: auth
  - name: cache
workspaces:
  ws-1: { user: alice }
`);
  return async (reply: string, stream = true): Promise<{ status: number; cache: string | null; text: string }> => {
    const res = await fetch(`${gw.url}/v1/sse-test/answer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1', 'x-gateway-cache': 'on', 'x-test-reply': reply },
      body: JSON.stringify({ model: 'test-model', stream, messages: [{ role: 'user', content: 'What is 2+2?' }] }),
    });
    return { status: res.status, cache: res.headers.get('x-cache'), text: await res.text() };
  };
}

t.test('a plugin dialect that declares no stream end: its streams are never stored, its JSON answers are', async (t) => {
  const send = await gateway(t);
  const cut = await send('cut');
  t.equal(cut.status, 200, cut.text);
  t.equal(cut.cache, 'MISS');
  t.equal((await send('whole')).cache, 'MISS', 'the stream cut early was not stored: nothing says it was whole');
  t.equal((await send('whole')).cache, 'MISS', 'nor a whole one: the cache cannot tell them apart');
  t.equal((await send('json', false)).cache, 'MISS');
  t.equal((await send('json', false)).cache, 'HIT', 'a JSON answer that parses is stored');
});

t.test('a plugin dialect that declares isWholeStream: a cut stream is not stored, a whole one is', async (t) => {
  const send = await gateway(t, 'END');
  t.equal((await send('cut')).cache, 'MISS');
  t.equal((await send('whole')).cache, 'MISS', 'the cut stream was not stored');
  const hit = await send('whole');
  t.equal(hit.cache, 'HIT', 'the whole one was');
  t.match(hit.text, /data: END\n\n$/);
});

t.test('built-in dialects declare how a whole stream ends', async (t) => {
  const sse = (s: string): Buffer => Buffer.from(s);
  // Anthropic: by converting (message_stop, no error event).
  const anthropic = anthropicEvents().join('');
  t.ok(anthropicDialect.cacheConverter, 'Anthropic has a converter');
  t.ok(isWholeAnswer(anthropicDialect, 'sse', sse(anthropic)));
  t.notOk(isWholeAnswer(anthropicDialect, 'sse', sse(anthropic.slice(0, anthropic.lastIndexOf('event: message_stop')))));
  // OpenAI: `data: [DONE]`.
  const chunk = 'data: {"choices":[{"index":0,"delta":{"content":"4"},"finish_reason":"stop"}]}\n\n';
  t.ok(isWholeAnswer(openaiDialect, 'sse', sse(`${chunk}data: [DONE]\n\n`)));
  t.notOk(isWholeAnswer(openaiDialect, 'sse', sse(chunk)));
  // An error chunk before the terminator (vLLM and other compatible servers end a failed
  // stream so): the answer failed, whatever follows.
  t.notOk(isWholeAnswer(openaiDialect, 'sse', sse(`${chunk}data: {"error":{"message":"overloaded","type":"server_error","code":500}}\n\ndata: [DONE]\n\n`)), 'an error chunk, then [DONE]');
  t.notOk(isWholeAnswer(openaiDialect, 'sse', sse(`${chunk}event: error\ndata: {"message":"x"}\n\ndata: [DONE]\n\n`)), 'an error event, then [DONE]');
  t.ok(isWholeAnswer(openaiDialect, 'sse', sse(`data: {"choices":[{"index":0,"delta":{"content":"{\\"error\\": 1}"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`)), 'text that mentions "error" is still an answer');
  // OpenAI Responses: the last event is response.completed (named, or by its type alone).
  const created = 'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}\n\n';
  const delta = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"4"}\n\n';
  const completed = 'event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1","status":"completed"}}\n\n';
  t.ok(isWholeAnswer(openaiDialect, 'sse', sse(created + delta + completed)), 'a Responses stream ending in response.completed');
  t.notOk(isWholeAnswer(openaiDialect, 'sse', sse(created + delta)), 'a Responses stream cut before it');
  t.notOk(isWholeAnswer(openaiDialect, 'sse', sse(created + delta + completed.replaceAll('completed', 'incomplete'))), 'response.incomplete: cut short');
  t.ok(isWholeAnswer(openaiDialect, 'sse', sse(completed.replace('event: response.completed\n', ''))), 'unnamed, by its type');
  t.notOk(isWholeAnswer(openaiDialect, 'sse', sse('data: {"type":"response.failed","note":"response.completed"}\n\n')), 'a failed one naming it in passing');
  // Gemini: a chunk with a finishReason (no terminator follows it), and no error.
  const part = 'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"The answer"}]},"index":0}]}\r\n\r\n';
  const last = 'data: {"candidates":[{"content":{"role":"model","parts":[{"text":" is 4."}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":5}}\r\n\r\n';
  t.ok(isWholeAnswer(geminiDialect, 'sse', sse(part + last)));
  t.notOk(isWholeAnswer(geminiDialect, 'sse', sse(part)), 'no finishReason: cut');
  t.notOk(isWholeAnswer(geminiDialect, 'sse', sse(`${part}data: {"error":{"code":503,"status":"UNAVAILABLE","message":"x"}}\r\n\r\n`)), 'an error chunk');
  // candidateCount 2: whole once every candidate seen has its finishReason, not at the first.
  const two = (c0: string, c1: string) => `data: {"candidates":[${c0},${c1}]}\r\n\r\n`;
  const open0 = '{"content":{"role":"model","parts":[{"text":"A"}]}}'; // index 0: left out, as proto3 JSON does
  const done0 = '{"content":{"role":"model","parts":[{"text":"."}]},"finishReason":"STOP"}';
  const open1 = '{"content":{"role":"model","parts":[{"text":"B"}]},"index":1}';
  const done1 = '{"content":{"role":"model","parts":[{"text":"!"}]},"finishReason":"STOP","index":1}';
  t.notOk(isWholeAnswer(geminiDialect, 'sse', sse(two(open0, open1) + two(done0, open1))), 'candidate 1 still streaming when cut');
  t.notOk(isWholeAnswer(geminiDialect, 'sse', sse(two(open0, open1) + `data: {"candidates":[${done0}]}\r\n\r\n`)), 'candidate 0 finished alone in its chunk');
  t.ok(isWholeAnswer(geminiDialect, 'sse', sse(two(open0, open1) + two(done0, open1) + `data: {"candidates":[${done1}]}\r\n\r\n`)), 'both finished');
  t.ok(isWholeAnswer(geminiDialect, 'sse', sse('data: {"promptFeedback":{"blockReason":"SAFETY"}}\r\n\r\n')), 'a blocked prompt is a whole answer');
  // Bedrock streams are AWS event streams, never stored; an SSE answer on its route would not be either.
  t.notOk(isWholeAnswer(bedrockDialect, 'sse', sse(chunk)));
  // JSON: must parse, whatever the dialect.
  t.ok(isWholeAnswer(bedrockDialect, 'json', sse('{"output":{}}')));
  t.notOk(isWholeAnswer(geminiDialect, 'json', sse('{"candidates":[')));
});

t.test("a plugin dialect's cache members that are not what the contract says fail the config load, saying what to fix", async (t) => {
  const dir = tempDir('gw-dialect-cache-');
  const cases: Array<[string, RegExp]> = [
    ["isWholeStream: '[DONE]'", /dialect\.isWholeStream must be a function/],
    ["isRefusal: 'content_filter'", /dialect\.isRefusal must be a function/],
    ['cacheConverter: { toSse() {} }', /dialect\.cacheConverter must have toSse\(\) and toJson\(\)/],
    ["cacheKeyHeaders: 'openai-beta'", /dialect\.cacheKeyHeaders must be a list of header names/],
    ["cacheKeyHeaders: ['x-version: 2']", /dialect\.cacheKeyHeaders must be a list of header names/],
    ["cacheUnkeyedFields: 'metadata'", /dialect\.cacheUnkeyedFields must be a list of top-level body field names/],
    ['cacheUnkeyedFields: [1]', /dialect\.cacheUnkeyedFields must be a list of top-level body field names/],
  ];
  for (const [i, [member, error]] of cases.entries()) {
    const plugin = path.join(dir, `bad-${i}.mjs`);
    writeFileSync(plugin, `export default { name: 'bad', apiVersion: 1, create: () => ({ configured: true, features: [], models: () => [], health: async () => ({ status: 'ok' }), dialect: { name: 'bad', renderError: () => ({ status: 500, headers: {}, body: '' }), ${member} } }) };\n`);
    await t.rejects(startGateway(t, `providers:\n  bad: { plugin: ${JSON.stringify(plugin)} }\n`), error, member);
  }
});
