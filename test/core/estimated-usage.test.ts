/**
 * The meters say whether a stream's own usage report came (`usageFinal`) and, when it did
 * not, estimate its output from the answer they read; core completes the usage with those
 * estimates (`completeUsage`). Each meter is fed a whole stream and the same stream cut
 * before its report, in one chunk and byte by byte (the SSE decoder's skip path and its
 * general path must estimate alike).
 */
import t from 'tap';
import { emptyUsage } from '../../core/context.js';
import type { UsageMeter } from '../../core/provider-types.js';
import { completeUsage } from '../../core/stream/estimated-usage.js';
import { SseDecoder } from '../../core/stream/sse.js';
import { AnthropicStreamMeter } from '../../providers/anthropic/usage.js';
import { EventStreamMeter } from '../../providers/bedrock/usage.js';
import { OpenAIStreamMeter } from '../../providers/openai/usage.js';
import { ResponsesStreamMeter } from '../../providers/openai/responses-usage.js';
import { AnthropicToOpenAIStream } from '../../providers/translate/openai-anthropic/stream.js';
import { ConverseToOpenAIStream } from '../../providers/translate/openai-converse/stream.js';
import type { ConverseStreamEvent } from '../../providers/translate/openai-converse/converse-types.js';
import { BedrockMock } from '../mocks/bedrock-mock.js';

const TEXT = 'The quick brown fox jumps over the lazy dog, again and again, until the story ends.';
const WORDS = TEXT.split(' ').map((w, i) => (i ? ` ${w}` : w));
const estimate = Math.ceil(TEXT.length / 4);

const sse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

function anthropicEvents(final: boolean): string[] {
  const events = [
    sse('message_start', { type: 'message_start', message: { model: 'claude-x', usage: { input_tokens: 50, output_tokens: 1 } } }),
    sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    sse('ping', { type: 'ping' }),
    ...WORDS.map((w) => sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } })),
    sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
  ];
  if (final) events.push(sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 21 } }), sse('message_stop', { type: 'message_stop' }));
  return events;
}

/** Feed `events` one to a chunk, then all of them byte by byte to a second meter. */
function fedBothWays<M extends UsageMeter>(make: () => M, events: string[]): [M, M] {
  const whole = make();
  for (const e of events) whole.write(Buffer.from(e));
  whole.end();
  const bytes = make();
  for (const b of Buffer.from(events.join(''))) bytes.write(Uint8Array.of(b));
  bytes.end();
  return [whole, bytes];
}

t.test('completeUsage: only a meter that says its report never came is completed', async (t) => {
  const usage = { inputTokens: 0, outputTokens: 2, cacheCreationTokens: 0, cacheReadTokens: 0 };
  t.equal(completeUsage(usage, { usage, write() {}, end() {} }, 400), false, 'a meter that says nothing is taken at its word');
  t.equal(completeUsage(usage, { usage, usageFinal: true, estimatedOutputTokens: 99, write() {}, end() {} }, 400), false);
  t.same(usage, { inputTokens: 0, outputTokens: 2, cacheCreationTokens: 0, cacheReadTokens: 0 });
  t.equal(completeUsage(usage, { usage, usageFinal: false, estimatedOutputTokens: 9, write() {}, end() {} }, 401), true);
  t.same(usage, { inputTokens: 101, outputTokens: 9, cacheCreationTokens: 0, cacheReadTokens: 0 }, 'input from the request bytes, output the estimate');
  const reported = { inputTokens: 0, outputTokens: 30, cacheCreationTokens: 0, cacheReadTokens: 7 };
  completeUsage(reported, { usage: reported, usageFinal: false, estimatedOutputTokens: 9, write() {}, end() {} }, 401);
  t.same(reported, { inputTokens: 0, outputTokens: 30, cacheCreationTokens: 0, cacheReadTokens: 7 }, 'reported counts that are larger are kept; cache reads are an input count');
});

t.test('SseDecoder counts the events of the counted names it passes over unread', async (t) => {
  const seen: string[] = [];
  const d = new SseDecoder((event) => seen.push(event), { skip: ['delta', 'ping'], countSkipped: 1 });
  const delta = 'event: delta\ndata: {"t":"abc"}\n\n';
  d.push(Buffer.from(delta + delta + 'event: ping\ndata: {}\n\n'));
  d.push(Buffer.from(delta + 'event: start\ndata: {}\n\n')); // not all skippable: decoded, not counted
  t.equal(d.skippedEvents, 2, 'only the counted name: the ping is skipped, not counted');
  t.equal(d.skippedBytes, 2 * delta.length);
  t.same(seen, ['delta', 'start']);
});

t.test('Anthropic: cut before message_delta, the deltas are estimated alike by either path', async (t) => {
  const [whole, bytes] = fedBothWays(() => new AnthropicStreamMeter(), anthropicEvents(false));
  for (const m of [whole, bytes]) {
    t.equal(m.usageFinal, false);
    t.equal(m.estimatedOutputTokens, estimate, `${TEXT.length} characters of text`);
    t.same([m.usage.inputTokens, m.usage.outputTokens], [50, 1]);
  }
  const [done] = fedBothWays(() => new AnthropicStreamMeter(), anthropicEvents(true));
  t.equal(done.usageFinal, true);
  t.equal(done.usage.outputTokens, 21);
});

t.test('the unified translation of an Anthropic stream estimates the same', async (t) => {
  const feed = (final: boolean, split: boolean): AnthropicToOpenAIStream => {
    const s = new AnthropicToOpenAIStream({ id: 'chatcmpl-1', created: 1, includeUsage: false });
    const text = anthropicEvents(final).join('');
    if (split) for (const b of Buffer.from(text)) s.write(Uint8Array.of(b));
    else for (const e of anthropicEvents(final)) s.write(Buffer.from(e));
    s.end();
    return s;
  };
  for (const split of [false, true]) {
    const cut = feed(false, split);
    t.equal(cut.usageFinal, false);
    t.equal(cut.estimatedOutputTokens, estimate, split ? 'byte by byte' : 'an event a chunk');
    t.equal(feed(true, split).usageFinal, true);
  }
});

t.test('OpenAI chat: about a token a chunk until the usage chunk', async (t) => {
  const chunk = (delta: unknown, finish: string | null = null): string => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }], usage: null })}\n\n`;
  const events = [chunk({ role: 'assistant', content: '' }), ...WORDS.map((w) => chunk({ content: w })), chunk({}, 'stop')];
  const [cut] = fedBothWays(() => new OpenAIStreamMeter(), events);
  t.equal(cut.usageFinal, false);
  t.equal(cut.estimatedOutputTokens, WORDS.length + 2);
  const [done] = fedBothWays(() => new OpenAIStreamMeter(), [...events, `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 17 } })}\n\n`, 'data: [DONE]\n\n']);
  t.equal(done.usageFinal, true);
  t.equal(done.usage.outputTokens, 17);
});

t.test('OpenAI Responses: a delta a token, skipped or read, until the terminal event', async (t) => {
  const events = [
    sse('response.created', { type: 'response.created', response: { model: 'gpt-4o', usage: null } }),
    ...WORDS.map((w) => sse('response.output_text.delta', { type: 'response.output_text.delta', delta: w })),
  ];
  const [whole, bytes] = fedBothWays(() => new ResponsesStreamMeter(), events);
  for (const m of [whole, bytes]) {
    t.equal(m.usageFinal, false);
    t.equal(m.estimatedOutputTokens, WORDS.length);
  }
  const [done] = fedBothWays(() => new ResponsesStreamMeter(), [...events, sse('response.completed', { type: 'response.completed', response: { model: 'gpt-4o', usage: { input_tokens: 5, output_tokens: 16 } } })]);
  t.equal(done.usageFinal, true);
});

t.test('Bedrock event streams: InvokeModel (Anthropic events) and ConverseStream', async (t) => {
  const mock = await BedrockMock.start([]);
  t.teardown(() => mock.close());
  mock.text = TEXT;
  const feed = (frames: Uint8Array[]): EventStreamMeter => {
    const m = new EventStreamMeter();
    for (const f of frames) m.write(f);
    m.end();
    return m;
  };
  const invoke = mock.invokeFrames('anthropic.claude-3-haiku-20240307-v1:0');
  const converse = mock.converseFrames();
  // Invoke: cut before message_delta; Converse: before metadata.
  for (const [name, frames, cutAt] of [['invoke', invoke, invoke.length - 2], ['converse', converse, converse.length - 1]] as const) {
    const cut = feed(frames.slice(0, cutAt));
    t.equal(cut.usageFinal, false, `${name}: cut`);
    t.equal(cut.estimatedOutputTokens, estimate, `${name}: the deltas' text`);
    t.equal(feed(frames).usageFinal, true, `${name}: whole`);
  }
});

t.test('the unified translation of ConverseStream estimates from its deltas', async (t) => {
  const s = new ConverseToOpenAIStream({ id: 'c', created: 1, model: 'm', includeUsage: false });
  s.push({ messageStart: { role: 'assistant' } } as ConverseStreamEvent);
  for (const w of WORDS) s.push({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: w } } } as ConverseStreamEvent);
  s.push({ messageStop: { stopReason: 'end_turn' } } as ConverseStreamEvent);
  s.end();
  t.equal(s.usageFinal, false);
  t.equal(s.estimatedOutputTokens, estimate);
  const whole = new ConverseToOpenAIStream({ id: 'c', created: 1, model: 'm', includeUsage: false });
  whole.push({ metadata: { usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 } } } as ConverseStreamEvent);
  t.equal(whole.usageFinal, true);
});

t.test('a meter that never saw its stream start estimates nothing but the input', async (t) => {
  const m = new AnthropicStreamMeter();
  m.end();
  const usage = emptyUsage();
  t.equal(completeUsage(usage, m, 80), true);
  t.same(usage, { inputTokens: 20, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 });
});
