/**
 * The cache on pass-through routes of dialects without a JSON↔SSE converter (OpenAI,
 * Gemini): streamed and JSON entries stay apart, so whatever changes the bytes of a stream
 * (the query's `alt=sse`, `stream_options`) is part of the key, and an answer the upstream
 * ended cleanly but early (a stream without `data: [DONE]`, JSON cut mid-string) is never
 * stored. A scripted upstream records what reached it.
 */
import type { ServerResponse } from 'node:http';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { GeminiMock } from '../../mocks/gemini-mock.js';
import { ScriptedUpstream } from '../../proof/support/upstream.js';

const GKEY = 'gemini-gateway-key-000000000000';
const HEADERS = { 'content-type': 'application/json', 'x-workspace-id': 'ws-1', 'x-gateway-cache': 'on' };

const config = (providers: string): string => `providers:
${providers}filters:
  - name: auth
  - name: cache
workspaces:
  ws-1: { user: alice }
`;

async function openai(t: { teardown(fn: () => unknown): void }): Promise<{ up: ScriptedUpstream; send(body: Record<string, unknown>): Promise<{ cache: string | null; text: string }> }> {
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  const gw = await startGateway(t, config(`  openai: { api_key: sk-a, base_url: ${up.url} }\n`));
  const send = async (body: Record<string, unknown>) => {
    const res = await fetch(`${gw.url}/v1/openai/v1/chat/completions`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ model: 'gpt-4o', temperature: 0, messages: [{ role: 'user', content: 'hi' }], ...body }) });
    return { cache: res.headers.get('x-cache'), text: await res.text() };
  };
  return { up, send };
}

const chunk = (v: Record<string, unknown>): string => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', ...v })}\n\n`;
const TEXT = chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'The answer is 4.' }, finish_reason: 'stop' }], usage: null });
const USAGE = chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } });

function stream(...events: string[]): (_q: unknown, res: ServerResponse) => void {
  return (_q, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(events.join(''));
  };
}

function jsonText(text: string): (_q: unknown, res: ServerResponse) => void {
  return (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  };
}

t.test('OpenAI: a stream that ends without data: [DONE] is not stored; one that ends with it is', async (t) => {
  const { up, send } = await openai(t);
  up.script.push(stream(chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'The answer' }, finish_reason: null }] })), stream(TEXT, 'data: [DONE]\n\n'));
  const cut = await send({ stream: true });
  t.equal(cut.cache, 'MISS');
  t.notMatch(cut.text, /\[DONE\]/, 'the upstream ended early, cleanly');
  const whole = await send({ stream: true });
  t.equal(whole.cache, 'MISS', 'the cut stream was not kept');
  t.match(whole.text, /data: \[DONE\]/);
  const hit = await send({ stream: true });
  t.equal(hit.cache, 'HIT', 'the whole stream was kept');
  t.equal(hit.text, whole.text, 'and replayed as it was');
  t.equal(up.seen.length, 2);
});

t.test('OpenAI: a stream with an error chunk before data: [DONE] is not stored', async (t) => {
  // A compatible server (vLLM) reports a failure mid-stream and then terminates: the
  // pass-through's meter makes it a stream error, and the dialect's isWholeStream agrees.
  const { up, send } = await openai(t);
  const failed = stream(chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'The' }, finish_reason: null }] }), 'data: {"error":{"message":"out of memory","type":"server_error","code":500}}\n\n', 'data: [DONE]\n\n');
  up.script.push(failed, failed);
  t.equal((await send({ stream: true })).cache, 'MISS');
  const again = await send({ stream: true });
  t.equal(again.cache, 'MISS', 'the failed stream was not kept');
  t.equal(up.seen.length, 2);
});

t.test('OpenAI Responses: a stream is stored once it ends with response.completed', async (t) => {
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  const gw = await startGateway(t, config(`  openai: { api_key: sk-a, base_url: ${up.url} }\n`));
  const send = async () => {
    const res = await fetch(`${gw.url}/v1/openai/v1/responses`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ model: 'gpt-4o', temperature: 0, stream: true, input: 'What is 2+2?' }) });
    return { cache: res.headers.get('x-cache'), text: await res.text() };
  };
  const event = (type: string, v: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...v })}\n\n`;
  const created = event('response.created', { response: { id: 'resp_1', status: 'in_progress', model: 'gpt-4o' } });
  const delta = event('response.output_text.delta', { delta: 'The answer is 4.' });
  const completed = event('response.completed', { response: { id: 'resp_1', status: 'completed', model: 'gpt-4o', usage: { input_tokens: 3, output_tokens: 5, total_tokens: 8 } } });
  up.script.push(stream(created, delta), stream(created, delta, completed));
  t.equal((await send()).cache, 'MISS');
  const whole = await send();
  t.equal(whole.cache, 'MISS', 'the stream cut before response.completed was not kept');
  const hit = await send();
  t.equal(hit.cache, 'HIT', 'the whole one was');
  t.equal(hit.text, whole.text);
  t.equal(up.seen.length, 2);
});

t.test('OpenAI: a 200 JSON answer cut mid-string is not stored; a whole one is', async (t) => {
  const { up, send } = await openai(t);
  const whole = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: 'The answer is 4.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } });
  up.script.push(jsonText(whole.slice(0, 100)), jsonText(whole));
  t.equal((await send({})).cache, 'MISS');
  t.equal((await send({})).cache, 'MISS', 'the cut answer was not kept');
  const hit = await send({});
  t.equal(hit.cache, 'HIT', 'the whole answer was kept');
  t.equal(hit.text, whole);
  t.equal(up.seen.length, 2);
});

t.test('OpenAI: stream_options is part of the key (include_usage adds a usage-only chunk)', async (t) => {
  const { up, send } = await openai(t);
  up.script.push(stream(TEXT, USAGE, 'data: [DONE]\n\n'), stream(TEXT, USAGE, 'data: [DONE]\n\n'));
  const withUsage = await send({ stream: true, stream_options: { include_usage: true } });
  t.match(withUsage.text, /"choices":\[\]/, 'the client that asked gets the usage chunk');
  const without = await send({ stream: true });
  t.equal(without.cache, 'MISS', 'another stream_options: another entry');
  t.notMatch(without.text, /"choices":\[\]/, 'a client that did not ask never gets the usage-only chunk');
  t.equal((await send({ stream: true, stream_options: { include_usage: true } })).cache, 'HIT');
  t.equal((await send({ stream: true })).cache, 'HIT');
  t.equal(up.seen.length, 2);
});

t.test('Gemini: the query is part of the key, so streamGenerateContent with and without alt=sse keep apart', async (t) => {
  const mock = await GeminiMock.start(GKEY);
  t.teardown(() => mock.close());
  const gw = await startGateway(t, config(`  gemini: { api_key: ${GKEY}, base_url: ${mock.url} }\n`));
  const url = `${gw.url}/v1/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent`;
  const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { temperature: 0 } });
  const send = async (query: string) => {
    const res = await fetch(`${url}${query}`, { method: 'POST', headers: HEADERS, body });
    return { cache: res.headers.get('x-cache'), type: res.headers.get('content-type'), text: await res.text() };
  };
  const sse = await send('?alt=sse');
  t.match(sse.type, /^text\/event-stream/);
  const array = await send('');
  t.equal(array.cache, 'MISS', 'without alt=sse: another entry');
  t.match(array.type, /json/);
  t.ok(array.text.trimStart().startsWith('['), 'a JSON array, as Gemini sends without alt=sse');
  t.equal(mock.requests.length, 2);
  const again = await send('?alt=sse');
  t.equal(again.cache, 'HIT');
  t.match(again.type, /^text\/event-stream/);
  t.equal(mock.requests.length, 2, 'the SSE entry served its own request');
});

// The Gemini provider's stream guard makes a stream without a finish reason a stream error.
t.test('Gemini: an alt=sse stream cut before its finish reason is not stored; a whole one is', async (t) => {
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  const gw = await startGateway(t, config(`  gemini: { api_key: ${GKEY}, base_url: ${up.url} }\n`));
  const url = `${gw.url}/v1/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`;
  const event = (v: Record<string, unknown>): string => `data: ${JSON.stringify(v)}\r\n\r\n`;
  const part = event({ candidates: [{ content: { role: 'model', parts: [{ text: 'The answer' }] }, index: 0 }], modelVersion: 'gemini-2.5-flash' });
  const last = event({ candidates: [{ content: { role: 'model', parts: [{ text: ' is 4.' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 5, totalTokenCount: 8 }, modelVersion: 'gemini-2.5-flash' });
  const send = async (prompt: string): Promise<string | null> => {
    const res = await fetch(url, { method: 'POST', headers: HEADERS, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: prompt }] }] }) });
    await res.text();
    return res.headers.get('x-cache');
  };
  up.script.push(stream(part));
  t.equal(await send('cut'), 'MISS');
  up.script.push(stream(part));
  t.equal(await send('cut'), 'MISS', 'the cut stream was not stored');
  up.script.push(stream(part, last));
  t.equal(await send('whole'), 'MISS');
  t.equal(await send('whole'), 'HIT', 'the whole one was');
});

t.test('Gemini: a candidateCount 2 stream cut after candidate 0 finished is not stored', async (t) => {
  // Before, the first finishReason made a stream whole, whichever candidate it ended: a stream
  // cut while candidate 1 was still streaming was stored and replayed to everyone.
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  const gw = await startGateway(t, config(`  gemini: { api_key: ${GKEY}, base_url: ${up.url} }\n`));
  const url = `${gw.url}/v1/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`;
  const event = (v: Record<string, unknown>): string => `data: ${JSON.stringify(v)}\r\n\r\n`;
  const text = (s: string) => ({ role: 'model', parts: [{ text: s }] });
  const both = event({ candidates: [{ content: text('One') }, { content: text('Two'), index: 1 }], modelVersion: 'gemini-2.5-flash' });
  const first = event({ candidates: [{ content: text(' done.'), finishReason: 'STOP' }, { content: text(' still'), index: 1 }], modelVersion: 'gemini-2.5-flash' });
  const second = event({ candidates: [{ content: text(' done too.'), finishReason: 'STOP', index: 1 }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 9, totalTokenCount: 12 }, modelVersion: 'gemini-2.5-flash' });
  const send = async (prompt: string): Promise<{ cache: string | null; text: string }> => {
    const res = await fetch(url, { method: 'POST', headers: HEADERS, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: prompt }] }], generationConfig: { candidateCount: 2 } }) });
    return { text: await res.text(), cache: res.headers.get('x-cache') };
  };
  up.script.push(stream(both, first));
  const cut = await send('cut');
  t.equal(cut.cache, 'MISS');
  t.match(cut.text, /"error"/, 'the client learns the stream was cut');
  up.script.push(stream(both, first, second));
  t.equal((await send('cut')).cache, 'MISS', 'the cut stream was not stored');
  up.script.push(stream(both, first, second));
  t.equal((await send('whole')).cache, 'MISS');
  t.equal((await send('whole')).cache, 'HIT', 'the whole one was');
});
