/** Properties of the stream translator that goldens alone do not show. */
import t from 'tap';
import type { UsageMeter } from '../../../../core/types.js';
import {
  AnthropicToOpenAIStream,
  anthropicToOpenAIResponse,
  type AnthropicMessage,
  type OpenAIChatCompletionChunk,
  type StreamTranslationOptions,
} from '../../../../providers/translate/openai-anthropic/index.js';
import { readBytes, readJson } from '../../../helpers/translate-golden.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

function dataLines(sse: string): string[] {
  return sse.split('\n\n').filter((e) => e !== '').map((e) => e.replace(/^data: /, ''));
}

t.test('unbuffered: each upstream event is answered as soon as its last byte arrives', async (t) => {
  const upstream = readBytes('stream-tool-calls-parallel', 'upstream.sse').toString('utf8');
  const tr = new AnthropicToOpenAIStream({ id: 'c', created: 1, includeUsage: false });
  const events = upstream.split('\n\n').filter((e) => e !== '');
  let answered = 0;
  for (const event of events) {
    const name = /^event: (\S+)/.exec(event)?.[1];
    // Everything but the blank line that ends the event: nothing may come out yet.
    t.equal(tr.write(Buffer.from(event + '\n')).length, 0, `${name}: no output before the event is complete`);
    const out = text(tr.write(Buffer.from('\n')));
    const emits = name === 'message_start' || name === 'message_stop' || (name === 'content_block_start' && event.includes('tool_use')) ||
      (name === 'content_block_delta' && !event.includes('"partial_json":""'));
    t.equal(out !== '', emits, `${name}: ${emits ? 'answered at once' : 'nothing to say'}`);
    if (out) answered++;
  }
  t.equal(text(tr.end()), '', 'nothing held back for end()');
  t.ok(answered > 5);
});

t.test('streamed chunks accumulate to the same message as the non-streamed translation', async (t) => {
  const tr = new AnthropicToOpenAIStream({ id: 'c', created: 1, includeUsage: true });
  const sse = text(tr.write(readBytes('stream-tool-calls-parallel', 'upstream.sse'))) + text(tr.end());
  const lines = dataLines(sse);
  t.equal(lines.pop(), '[DONE]');
  let content = '';
  let finish: string | null = null;
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  const chunks = lines.map((l) => JSON.parse(l) as OpenAIChatCompletionChunk);
  for (const chunk of chunks.slice(0, -1)) {
    t.equal(chunk.choices.length, 1);
    const { delta, finish_reason } = chunk.choices[0];
    content += delta.content ?? '';
    finish = finish_reason ?? finish;
    for (const d of delta.tool_calls ?? []) {
      // The OpenAI SDKs' accumulators: a delta with an id opens tool call `index`, later ones append.
      if (d.id) calls[d.index] = { id: d.id, name: d.function.name ?? '', arguments: '' };
      calls[d.index].arguments += d.function.arguments;
    }
  }
  const last = chunks[chunks.length - 1];
  t.same(last.choices, [], 'the usage chunk has no choices');
  t.same(last.usage, { prompt_tokens: 472, completion_tokens: 124, total_tokens: 596, prompt_tokens_details: { cached_tokens: 0 } });
  t.equal(finish, 'tool_calls');
  t.equal(content, "I'll check the weather in Paris and the time in Tokyo.");
  t.same(calls.map((c) => ({ ...c, arguments: JSON.parse(c.arguments) as unknown })), [
    { id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } },
    { id: 'toolu_01B4mB8TLTc2eWqgYd4u8qZz', name: 'get_time', arguments: { tz: 'Asia/Tokyo' } },
  ]);
  // The same turn, non-streamed, names the same tool calls.
  const message = readJson<AnthropicMessage>('response-tool-calls-parallel', 'input.json');
  const whole = anthropicToOpenAIResponse(message, { id: 'c', created: 1 }).body.choices[0].message.tool_calls ?? [];
  t.same(whole.map((c) => c.function.name), calls.map((c) => c.name));
});

t.test('after [DONE] or an error nothing more is emitted', async (t) => {
  const done = new AnthropicToOpenAIStream(readJson<StreamTranslationOptions>('stream-text', 'input.json'));
  t.match(text(done.write(readBytes('stream-text', 'upstream.sse'))), /data: \[DONE\]\n\n$/);
  t.equal(done.write(Buffer.from('event: ping\ndata: {"type":"ping"}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n')).length, 0);
  t.equal(done.end().length, 0);
  t.equal(done.streamError, undefined);

  const failed = new AnthropicToOpenAIStream({ id: 'c', created: 1, includeUsage: true });
  const upstream = readBytes('stream-error-midway', 'upstream.sse');
  const trailer = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}}\n\n';
  const out = text(failed.write(Buffer.concat([upstream, Buffer.from(trailer)]))) + text(failed.end());
  t.notMatch(out, /late|\[DONE\]/, 'no content and no [DONE] after the error chunk');
  t.match(out, /data: \{"error":\{[^\n]*\}\}\n\n$/);
});

t.test('unreadable event data ends the stream with an error chunk', async (t) => {
  const tr = new AnthropicToOpenAIStream({ id: 'c', created: 1, includeUsage: false });
  const out = text(tr.write(Buffer.from('event: message_start\ndata: {"type":"message_st\n\n')));
  t.same(JSON.parse(out.slice(6)), { error: { message: 'Upstream sent an unreadable stream event', type: 'server_error', param: null, code: null } });
  t.match(tr.streamError, /unreadable/);
});

t.test('usage is readable mid-stream and the translator serves as the request usage meter', async (t) => {
  const tr = new AnthropicToOpenAIStream({ id: 'c', created: 1, includeUsage: false });
  const meter: UsageMeter = tr;
  const upstream = readBytes('stream-cache-tokens', 'upstream.sse').toString('utf8');
  const cut = upstream.indexOf('event: message_delta');
  tr.write(Buffer.from(upstream.slice(0, cut)));
  t.same(meter.usage, { inputTokens: 21, outputTokens: 1, cacheCreationTokens: 188, cacheReadTokens: 2048 }, 'from message_start');
  tr.write(Buffer.from(upstream.slice(cut)));
  tr.end();
  t.same(meter.usage, { inputTokens: 21, outputTokens: 14, cacheCreationTokens: 188, cacheReadTokens: 2048 }, 'message_delta counts replace');
  t.equal(meter.model, 'claude-sonnet-4-5-20250929');
});
