/**
 * Units: the Anthropic message ↔ SSE converter (a round trip for every block kind, and
 * what it refuses), and the canonical cache key.
 */
import t from 'tap';
import { messageToSse, sseToMessage } from '../../../providers/anthropic/message-stream.js';
import { cacheKey, canonicalJson, keyedHeaders } from '../../../filters/cache/key.js';
import { random, randomValue } from '../../helpers/random-json.js';

const message = {
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5',
  content: [
    { type: 'thinking', thinking: 'Let me think.', signature: 'sig==' },
    { type: 'redacted_thinking', data: 'opaque' },
    { type: 'text', text: 'Paris is sunny.', citations: [{ type: 'char_location', cited_text: 'sunny', document_index: 0, start_char_index: 0, end_char_index: 5 }] },
    { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris', days: [1, 2] } },
    { type: 'tool_use', id: 'toolu_2', name: 'now', input: {} },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 20, cache_creation_input_tokens: 1, cache_read_input_tokens: 2 },
};

t.test('message → SSE → message is the identity', async (t) => {
  const sse = messageToSse(Buffer.from(JSON.stringify(message)))!;
  t.ok(sse);
  const text = sse.toString();
  t.match(text, /^event: message_start\ndata: /);
  t.match(text, /event: message_stop\ndata: \{"type":"message_stop"\}\n\n$/);
  t.match(text, /"output_tokens":0/, 'message_start carries no output yet');
  t.same(JSON.parse(sseToMessage(sse)!.toString()), message);
  // CRLF line ends, as some proxies rewrite them: still the same message.
  const crlf = Buffer.from(text.replace(/\n/g, '\r\n'));
  t.same(JSON.parse(sseToMessage(crlf)!.toString()), message);
});

t.test('only complete answers convert', async (t) => {
  const sse = messageToSse(Buffer.from(JSON.stringify(message)))!.toString();
  t.equal(sseToMessage(Buffer.from(sse.slice(0, sse.lastIndexOf('event: message_stop')))), undefined, 'no message_stop: incomplete');
  const withError = sse.replace('event: message_stop', 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"x"}}\n\nevent: message_stop');
  t.equal(sseToMessage(Buffer.from(withError)), undefined, 'an error event');
  // What it cannot read it does not drop: a JSON client would get a message with a block
  // missing its content, and the stream its whole-answer proof (it was stored before).
  const unknownDelta = sse.replace('event: message_delta', 'event: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"future_delta","payload":"x"}}\n\nevent: message_delta');
  t.equal(sseToMessage(Buffer.from(unknownDelta)), undefined, 'a delta of a kind it does not know');
  const unstopped = sse.replace('event: message_delta', 'event: content_block_start\ndata: {"type":"content_block_start","index":5,"content_block":{"type":"text","text":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":5,"delta":{"type":"text_delta","text":"half"}}\n\nevent: message_delta');
  t.equal(sseToMessage(Buffer.from(unstopped)), undefined, 'a block never stopped');
  t.equal(sseToMessage(Buffer.from('event: message_stop\ndata: {"type":"message_stop"}\n\n')), undefined, 'no message_start');
  t.equal(messageToSse(Buffer.from('{"type":"error","error":{}}')), undefined, 'not a message');
  t.equal(messageToSse(Buffer.from('not json')), undefined);
});

t.test('canonical key: key order is irrelevant, stream and metadata are ignored, scope and vary headers count', async (t) => {
  t.equal(canonicalJson({ b: [2, { d: 1, c: 2 }], a: null }), '{"a":null,"b":[2,{"c":2,"d":1}]}');
  t.equal(canonicalJson([[], {}, '', 'é"\\', -0, 1e21, true, [null]]), '[[],{},"","é\\"\\\\",0,1e+21,true,[null]]', 'empty containers and scalars as JSON.stringify writes them');
  // The recursive writer it replaced, as the reference.
  const sorted = (v: unknown): unknown => (Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v);
  for (let seed = 1; seed <= 300; seed++) {
    const value = randomValue(random(seed), 0);
    if (!t.equal(canonicalJson(value), JSON.stringify(sorted(value)), `random value ${seed}`)) break;
  }
  // A client's JSON may nest deeper than the call stack.
  const deep = JSON.parse(`${'{"b":1,"a":['.repeat(20_000)}0${']}'.repeat(20_000)}`) as unknown;
  t.equal(canonicalJson(deep), `${'{"a":['.repeat(20_000)}0${'],"b":1}'.repeat(20_000)}`, '20,000 levels, keys sorted');
  const base = { scope: 'user:a\nws', provider: 'anthropic', path: '/v1/messages', headers: {}, varyHeaders: ['anthropic-beta'], keyedHeaders: keyedHeaders() };
  const k = cacheKey({ ...base, body: { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0 } });
  t.equal(cacheKey({ ...base, unkeyedFields: ['metadata'], body: { temperature: 0, stream: true, metadata: { user_id: 'x' }, messages: [{ content: 'hi', role: 'user' }], model: 'm' } }), k, "the dialect's unkeyed fields are left out");
  t.not(cacheKey({ ...base, body: { temperature: 0, metadata: { user_id: 'x' }, messages: [{ content: 'hi', role: 'user' }], model: 'm' } }), k, 'metadata counts where the dialect does not say otherwise (an answer may echo it)');
  t.not(cacheKey({ ...base, scope: 'user:b\nws', body: { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0 } }), k);
  t.not(cacheKey({ ...base, headers: { 'anthropic-beta': 'x' }, body: { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0 } }), k);
  t.not(cacheKey({ ...base, stream: true, body: { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0 } }), k, 'the flag counts where no converter exists');
  const none = { ...base, varyHeaders: [], body: { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0 } };
  const guarded = cacheKey({ ...none, headers: { 'x-amzn-bedrock-guardrailidentifier': 'gr', 'x-amzn-bedrock-guardrailversion': '1' } });
  t.not(guarded, cacheKey(none), 'an x-amzn-bedrock-* header counts with no vary_headers');
  t.equal(cacheKey({ ...none, headers: { 'x-amzn-bedrock-guardrailversion': '1', 'x-amzn-bedrock-guardrailidentifier': 'gr' } }), guarded, 'in any order');
  t.not(cacheKey({ ...none, headers: { 'x-amzn-bedrock-guardrailidentifier': 'gr', 'x-amzn-bedrock-guardrailversion': '2' } }), guarded, 'its value counts');
  const org = cacheKey({ ...none, headers: { 'openai-organization': 'org-a' } });
  t.not(org, cacheKey(none), 'an account header counts with no vary_headers');
  t.not(cacheKey({ ...none, headers: { 'openai-organization': 'org-b' } }), org, 'its value counts');
  t.not(cacheKey({ ...none, headers: { 'openai-organization': 'org-a', 'openai-project': 'p' } }), org, 'so does a project');
  t.not(cacheKey({ ...none, headers: { 'x-goog-user-project': 'p' } }), cacheKey(none), "and Google's quota project");
  const forwarding = { ...none, keyedHeaders: keyedHeaders(['X-Workspace-ID']) };
  t.not(cacheKey({ ...forwarding, headers: { 'x-workspace-id': 'ws-1' } }), cacheKey({ ...forwarding, headers: { 'x-workspace-id': 'ws-2' } }), "a provider's forwarded header counts");
  t.equal(cacheKey({ ...none, headers: { 'x-workspace-id': 'ws-1' } }), cacheKey({ ...none, headers: { 'x-workspace-id': 'ws-2' } }), 'one no provider forwards does not');
  t.same(keyedHeaders(['X-Workspace-ID', 'openai-project', 'x-amzn-bedrock-trace']), ['openai-organization', 'openai-project', 'x-goog-user-project', 'x-workspace-id'], 'sorted, once each, prefix families left to their own rule');
});

t.test('blocks must come in order: an index that is not the next one, or names no started block, fails', async (t) => {
  const ev = (name: string, data: Record<string, unknown>): string => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
  const start = ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [], usage: { input_tokens: 1, output_tokens: 0 } } });
  const end = ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 1 } }) + ev('message_stop', {});
  const text = (index: unknown, startAt: unknown = index, stopAt: unknown = index): string =>
    ev('content_block_start', { index: startAt, content_block: { type: 'text', text: '' } }) +
    ev('content_block_delta', { index, delta: { type: 'text_delta', text: 'hi' } }) +
    ev('content_block_stop', { index: stopAt });
  const convert = (blocks: string): Buffer | undefined => sseToMessage(Buffer.from(start + blocks + end));
  t.same(JSON.parse(convert(text(0) + text(1))!.toString()).content, [{ type: 'text', text: 'hi' }, { type: 'text', text: 'hi' }], 'in order: converts');
  const began = Date.now();
  t.equal(convert(text(30_000_000)), undefined, 'a far index (once a 30M-slot sparse array)');
  t.ok(Date.now() - began < 500, 'and refused at once');
  t.equal(convert(text(1)), undefined, 'a gap before the first block');
  t.equal(convert(text(0) + text(0)), undefined, 'an index started twice');
  t.equal(convert(text(0) + text(2)), undefined, 'a gap between blocks');
  t.equal(convert(text('0')), undefined, 'an index that is no number');
  t.equal(convert(text(1, 0)), undefined, 'a delta for a block never started');
  t.equal(convert(text('length', 0)), undefined, "a delta for the array's own member");
  t.equal(convert(text(0, 0, 1)), undefined, 'a stop for a block never started');
});

t.test('key: the query counts without its key parameter; stream_options counts where the stream flag does', async (t) => {
  const base = { scope: 'shared', provider: 'gemini', path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent', headers: {}, varyHeaders: [], keyedHeaders: keyedHeaders(), body: { contents: [] } };
  const k = cacheKey({ ...base, query: 'alt=sse' });
  t.not(cacheKey(base), k, 'alt=sse or not: two answers');
  t.equal(cacheKey({ ...base, query: 'alt=sse&key=AIzaSecret1' }), k, 'a key parameter is no part of the key');
  t.equal(cacheKey({ ...base, query: 'key=AIzaSecret2&alt=sse' }), k);
  t.equal(cacheKey({ ...base, query: 'k%65y=AIzaSecret3&alt=sse' }), k, 'nor an encoded one');
  t.equal(cacheKey({ ...base, query: 'key=AIzaSecret4' }), cacheKey(base));

  const chat = { scope: 'shared', provider: 'openai', path: '/v1/chat/completions', headers: {}, varyHeaders: [], keyedHeaders: keyedHeaders(), body: { model: 'gpt-4o', stream: true, messages: [] } };
  const usage = { ...chat.body, stream_options: { include_usage: true } };
  t.not(cacheKey({ ...chat, stream: true, body: usage }), cacheKey({ ...chat, stream: true }), 'no converter: stream_options changes the bytes');
  t.equal(cacheKey({ ...chat, body: usage }), cacheKey(chat), 'with a converter (one entry for both modes) it is left out');
  t.not(cacheKey({ ...chat, target: '[true,null,null]' }), cacheKey(chat), 'the unified target counts');
});
