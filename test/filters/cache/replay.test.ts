/**
 * Replay across modes: one entry per request whatever its `stream` flag. A streamed hit
 * must be a valid Anthropic event sequence (the real SDK assembles it), a JSON hit from a
 * streamed entry a whole Message, and a streamed hit from a streamed entry the very bytes.
 */
import Anthropic from '@anthropic-ai/sdk';
import t from 'tap';
import { SseDecoder } from '../../../core/index.js';
import { ask, startCache, upstreamCalls, type CacheSetup } from './setup.js';

const weather = { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } }, required: ['location'] } };

function sdk(s: CacheSetup, user: string): Anthropic {
  return new Anthropic({ baseURL: s.base, apiKey: 'sk-ant-client-unused', maxRetries: 0, defaultHeaders: { 'x-user': user } });
}

function eventNames(sse: string): string[] {
  const names: string[] = [];
  const d = new SseDecoder((name) => names.push(name));
  d.push(Buffer.from(sse));
  d.end();
  return names;
}

const params = { model: 'claude-sonnet-4-5', max_tokens: 256, temperature: 0, messages: [{ role: 'user' as const, content: 'Weather in Paris?' }] };

t.test('a JSON entry served to a streamed request is a valid Anthropic SSE sequence', async (t) => {
  const s = await startCache(t);
  const client = sdk(s, 'alice');
  const stored = await client.messages.create({ ...params, tools: [weather] });
  t.equal(stored.content[1]?.type, 'tool_use');

  const { data: stream, response } = await client.messages.create({ ...params, tools: [weather], stream: true }).withResponse();
  t.equal(response.headers.get('x-cache'), 'HIT');
  t.match(response.headers.get('content-type'), /^text\/event-stream/);
  const seen: string[] = [];
  for await (const event of stream) seen.push(event.type);
  t.same(seen, [
    'message_start',
    'content_block_start', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_stop',
    'message_delta', 'message_stop',
  ]);
  t.equal(upstreamCalls(s), 1);

  const final = await client.messages.stream({ ...params, tools: [weather] }).finalMessage();
  t.same(final.content, stored.content, 'the SDK assembles the same content, tool input included');
  t.equal(final.stop_reason, 'tool_use');
  t.same(final.usage, stored.usage, 'usage as the original answer reported it');
  t.equal(upstreamCalls(s), 1, 'still one upstream call');
});

t.test('a streamed entry: replayed byte for byte to a streamed request, as a Message to a JSON one', async (t) => {
  const s = await startCache(t);
  const first = await ask(s, { user: 'bob', body: { stream: true } });
  t.equal(first.headers.get('x-cache'), 'MISS');
  const again = await ask(s, { user: 'bob', body: { stream: true } });
  t.equal(again.headers.get('x-cache'), 'HIT');
  t.equal(again.text, first.text, 'the stored stream, exactly');
  t.same(eventNames(again.text).filter((n) => n !== 'ping').at(0), 'message_start');
  t.same(eventNames(again.text).at(-1), 'message_stop');

  const json = await ask(s, { user: 'bob' });
  t.equal(json.headers.get('x-cache'), 'HIT', 'stream flag is not part of the key');
  t.equal(json.headers.get('content-type'), 'application/json');
  const msg = JSON.parse(json.text) as { type: string; content: Array<{ type: string; text: string }>; stop_reason: string; usage: { output_tokens: number; input_tokens: number } };
  t.equal(msg.type, 'message');
  t.same(msg.content, [{ type: 'text', text: s.mock.text }], 'deltas joined into one text block');
  t.equal(msg.stop_reason, 'end_turn');
  t.equal(msg.usage.output_tokens, s.mock.usage.output_tokens, 'the last cumulative message_delta usage');
  t.equal(msg.usage.input_tokens, s.mock.usage.input_tokens);
  t.equal(upstreamCalls(s), 1);

  const viaSdk = await sdk(s, 'bob').messages.create({ ...params, messages: [{ role: 'user', content: 'What is 2+2?' }], max_tokens: 64 }, { headers: { 'anthropic-version': '2023-06-01' } });
  t.same(viaSdk.content, msg.content, 'the SDK reads the converted Message');
});
