/**
 * A refusal or safety block is a classifier's verdict, not an answer to keep: stored, a
 * false positive would be replayed for the whole TTL to everyone sharing the entry. The
 * route's dialect says what one is (`isRefusal`); the cache does not store it, JSON or
 * stream. Before, Anthropic's `stop_reason: "refusal"`, OpenAI's `content_filter` and
 * Gemini's `SAFETY` / `blockReason` answers were stored like any other.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { ScriptedUpstream, json } from '../../proof/support/upstream.js';
import { anthropicDialect } from '../../../providers/anthropic/dialect.js';
import { bedrockDialect } from '../../../providers/bedrock/dialect.js';
import { geminiDialect } from '../../../providers/gemini/dialect.js';
import { openaiDialect } from '../../../providers/openai/dialect.js';
import { ask, startCache, upstreamCalls } from './setup.js';

t.test('Anthropic: a refusal is not stored, JSON or stream; the next answer is', async (t) => {
  const s = await startCache(t, { cache: { scope: 'shared' } });
  s.mock.stopReason = 'refusal';
  for (const stream of [false, true]) {
    const first = await ask(s, { user: 'a', body: { stream } });
    t.equal(first.status, 200);
    t.match(first.text, 'refusal');
    t.equal(first.headers.get('x-cache'), 'MISS');
    t.equal((await ask(s, { user: 'b', body: { stream } })).headers.get('x-cache'), 'MISS', `stream: ${stream}: the refusal was not stored`);
  }
  t.equal(upstreamCalls(s), 4);
  s.mock.stopReason = undefined;
  await ask(s, { user: 'a', body: { stream: true } });
  t.equal((await ask(s, { user: 'b' })).headers.get('x-cache'), 'HIT', 'an ordinary answer is');
});

t.test('the unified endpoint: a content_filter completion is not stored', async (t) => {
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  const completion = (finish: string) => ({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: finish }], usage: { prompt_tokens: 10, completion_tokens: 0, total_tokens: 10 } });
  for (const finish of ['content_filter', 'content_filter', 'stop', 'stop']) up.script.push((_q, res) => json(res, 200, completion(finish)));
  const gw = await startGateway(t, `providers:\n  openai: { api_key: sk-a, base_url: ${up.url} }\nfilters:\n  - name: auth\n  - name: cache\nworkspaces:\n  ws-1: { user: alice }\n`);
  const chat = async () => (await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1' }, body: JSON.stringify({ model: 'gpt-4o', temperature: 0, messages: [{ role: 'user', content: 'hi' }] }) })).headers.get('x-cache');
  t.equal(await chat(), 'MISS');
  t.equal(await chat(), 'MISS', 'content_filter was not stored');
  t.equal(await chat(), 'MISS');
  t.equal(await chat(), 'HIT', 'a stop was');
});

t.test('built-in dialects say what a refusal is', async (t) => {
  const b = (s: string): Buffer => Buffer.from(s);
  const a = anthropicDialect.isRefusal!;
  t.ok(a(b('{"type":"message","content":[],"stop_reason":"refusal"}'), 'json'));
  t.notOk(a(b('{"type":"message","content":[{"type":"text","text":"\\"refusal\\""}],"stop_reason":"end_turn"}'), 'json'), 'the word in the text is not one');
  t.ok(a(b('event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":null}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'), 'sse'));
  t.notOk(a(b('event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}\n\n'), 'sse'));

  const o = openaiDialect.isRefusal!;
  t.ok(o(b('{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}]}'), 'json'));
  t.ok(o(b('data: {"choices":[{"index":0,"delta":{},"finish_reason":"content_filter"}]}\n\ndata: [DONE]\n\n'), 'sse'), 'a stream chunk');
  t.ok(o(b('{"object":"response","status":"incomplete","incomplete_details":{"reason":"content_filter"}}'), 'json'), 'a Responses answer');
  t.notOk(o(b('{"object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}'), 'json'));
  t.notOk(o(b('{"choices":[{"index":0,"message":{"content":"\\"content_filter\\""},"finish_reason":"stop"}]}'), 'json'));
  t.notOk(o(b('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'), 'sse'));

  const g = geminiDialect.isRefusal!;
  t.ok(g(b('{"candidates":[{"content":{"parts":[]},"finishReason":"SAFETY"}]}'), 'json'));
  t.ok(g(b('{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}}'), 'json'), 'a blocked prompt');
  t.ok(g(b('[{"candidates":[{"content":{"parts":[{"text":"a"}]}}]},{"candidates":[{"finishReason":"RECITATION"}]}]'), 'json'), 'an element of a streamed JSON array');
  t.ok(g(b('data: {"candidates":[{"content":{"parts":[{"text":"a"}]}}]}\r\n\r\ndata: {"candidates":[{"finishReason":"SAFETY","index":0}]}\r\n\r\n'), 'sse'));
  t.ok(g(b('data: {"promptFeedback":{"blockReason":"SAFETY"}}\r\n\r\n'), 'sse'));
  t.notOk(g(b('{"candidates":[{"content":{"parts":[{"text":"SAFETY"}]},"finishReason":"STOP","safetyRatings":[{"category":"HARM_CATEGORY_X","probability":"NEGLIGIBLE"}]}]}'), 'json'));

  const r = bedrockDialect.isRefusal!;
  t.ok(r(b('{"output":{"message":{"role":"assistant","content":[]}},"stopReason":"guardrail_intervened"}'), 'json'), 'Converse, a guardrail');
  t.ok(r(b('{"output":{},"stopReason":"content_filtered"}'), 'json'));
  t.ok(r(b('{"type":"message","content":[],"stop_reason":"refusal"}'), 'json'), 'InvokeModel, Claude');
  t.ok(r(b('{"amazon-bedrock-guardrailAction":"INTERVENED","outputs":[]}'), 'json'));
  t.notOk(r(b('{"output":{},"stopReason":"end_turn"}'), 'json'));
});
