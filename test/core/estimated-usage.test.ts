/**
 * The meters say whether a stream's own usage report came (`usageFinal`) and, when it did
 * not, estimate its output from the answer they read; core completes the usage with those
 * estimates (`completeUsage`). Each meter is fed a whole stream and the same stream cut
 * before its report, in one chunk and byte by byte (the SSE decoder's skip path and its
 * general path must estimate alike). The JSON meters do the same for non-streamed answers.
 */
import t from 'tap';
import { emptyUsage } from '../../core/context.js';
import type { UsageMeter } from '../../core/provider-types.js';
import { completeUsage, estimable } from '../../core/stream/estimated-usage.js';
import { SseDecoder } from '../../core/stream/sse.js';
import { AnthropicStreamMeter, anthropicMeter } from '../../providers/anthropic/usage.js';
import { bedrockJsonMeter, EventStreamMeter } from '../../providers/bedrock/usage.js';
import { geminiMeter } from '../../providers/gemini/usage.js';
import { OpenAIStreamMeter, openaiJsonMeter } from '../../providers/openai/usage.js';
import { ResponsesStreamMeter, responsesJsonMeter } from '../../providers/openai/responses-usage.js';
import { ConversationStreamMeter } from '../../providers/openai/conversations-usage.js';
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

const openaiChunk = (delta: unknown, finish: string | null = null, extra: Record<string, unknown> = {}): string =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }], usage: null, ...extra })}\n\n`;

t.test('OpenAI chat: a token a chunk, or the text over four, until the usage chunk', async (t) => {
  const chunk = openaiChunk;
  const events = [chunk({ role: 'assistant', content: '' }), ...WORDS.map((w) => chunk({ content: w })), chunk({}, 'stop')];
  const [cut] = fedBothWays(() => new OpenAIStreamMeter(), events);
  t.equal(cut.usageFinal, false);
  t.equal(cut.estimatedOutputTokens, Math.max(WORDS.length + 2, estimate), 'the more of the two');
  // A token a chunk, where a token's text is shorter than four characters.
  const [short] = fedBothWays(() => new OpenAIStreamMeter(), [...'abcdefghij'].map((c) => chunk({ content: c })));
  t.equal(short.estimatedOutputTokens, 10);
  const [done] = fedBothWays(() => new OpenAIStreamMeter(), [...events, `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 17 } })}\n\n`, 'data: [DONE]\n\n']);
  t.equal(done.usageFinal, true);
  t.equal(done.usage.outputTokens, 17);
});

t.test('OpenAI chat from a batching server: 10 chunks of 400 characters cut before usage are ~1000 tokens, not 10', async (t) => {
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(9).slice(0, 400);
  // OpenAI's obfuscation pad is no text of the answer; logprobs' tokens repeat it.
  const events = Array.from({ length: 10 }, () => openaiChunk({ content: text }, null, { obfuscation: 'x'.repeat(40) }));
  for (const m of fedBothWays(() => new OpenAIStreamMeter(), events)) {
    t.equal(m.usageFinal, false);
    t.equal(m.estimatedOutputTokens, 1000, '4,000 characters over four');
  }
  const args = '{"q":"' + 'a'.repeat(393) + '"}';
  const escapedText = '"quoted" \\ and \n'.repeat(20);
  const others = [
    openaiChunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_abc', type: 'function', function: { name: 'f', arguments: args } }] }),
    openaiChunk({ reasoning_content: 'r'.repeat(400) }),
    openaiChunk({ reasoning: 'r'.repeat(400) }),
    openaiChunk({ refusal: 'n'.repeat(400) }),
    openaiChunk({ content: escapedText }),
  ];
  const [m] = fedBothWays(() => new OpenAIStreamMeter(), others);
  // Escapes count as written (a quote, a backslash, a newline as two characters each).
  const written = (s: string): number => JSON.stringify(s).length - 2;
  t.equal(written(escapedText), escapedText.length + 4 * 20);
  t.equal(m.estimatedOutputTokens, Math.ceil((written(args) + 3 * 400 + written(escapedText)) / 4), 'tool arguments, reasoning, a refusal, escaped text');
  const logprobs = `data: ${JSON.stringify({ id: 'c', model: 'm', choices: [{ index: 0, delta: { content: 'ab' }, logprobs: { content: [{ token: 'x'.repeat(400), logprob: -1, bytes: [1], top_logprobs: [] }] }, finish_reason: null }] })}\n\n`;
  t.equal(fedBothWays(() => new OpenAIStreamMeter(), [logprobs])[0].estimatedOutputTokens, 1, "logprobs' tokens are no more text");
  const cap = 600;
  const usage = { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 };
  completeUsage(usage, fedBothWays(() => new OpenAIStreamMeter(), events)[0], 400, cap);
  t.equal(usage.outputTokens, cap, 'still capped at max_tokens × n');
});

t.test("Mistral Conversations: a token a delta, or the delta text over four, until conversation.response.done", async (t) => {
  const delta = (content: string) => sse('message.output.delta', { type: 'message.output.delta', created_at: '2026-12-01T00:00:00Z', output_index: 0, id: 'msg_1', content_index: 0, model: 'mistral-medium-2505', agent_id: null, role: 'assistant', content });
  const big = 'x'.repeat(400);
  for (const m of fedBothWays(() => new ConversationStreamMeter(), Array.from({ length: 10 }, () => delta(big)))) {
    t.equal(m.usageFinal, false);
    t.equal(m.estimatedOutputTokens, 1000, '4,000 characters over four');
  }
  t.equal(fedBothWays(() => new ConversationStreamMeter(), WORDS.map(delta))[0].estimatedOutputTokens, Math.max(WORDS.length, estimate));
  t.equal(fedBothWays(() => new ConversationStreamMeter(), [...'abcdef'].map(delta))[0].estimatedOutputTokens, 6, 'short deltas: a token each');
});

t.test('OpenAI Responses: a token a delta, or the delta text over four, skipped or read, until the terminal event', async (t) => {
  const events = [
    sse('response.created', { type: 'response.created', response: { model: 'gpt-4o', usage: null } }),
    ...WORDS.map((w) => sse('response.output_text.delta', { type: 'response.output_text.delta', delta: w })),
  ];
  const [whole, bytes] = fedBothWays(() => new ResponsesStreamMeter(), events);
  for (const m of [whole, bytes]) {
    t.equal(m.usageFinal, false);
    t.equal(m.estimatedOutputTokens, Math.max(WORDS.length, estimate));
  }
  const big = sse('response.output_text.delta', { type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'x'.repeat(400), logprobs: [] });
  for (const m of fedBothWays(() => new ResponsesStreamMeter(), [events[0], ...Array.from({ length: 10 }, () => big)])) {
    t.equal(m.estimatedOutputTokens, 1000, '4,000 characters over four');
  }
  t.equal(fedBothWays(() => new ResponsesStreamMeter(), [events[0], ...[...'abcdef'].map((c) => sse('response.output_text.delta', { type: 'response.output_text.delta', delta: c }))])[0].estimatedOutputTokens, 6, 'short deltas: a token each');
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

/** A non-streamed answer of each provider: its usage report among its last bytes. */
const JSON_ANSWERS: Array<[string, () => UsageMeter, string]> = [
  ['OpenAI chat', openaiJsonMeter, JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: TEXT }, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 21 }, system_fingerprint: 'fp' })],
  ['Anthropic', () => anthropicMeter('application/json')!, JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'text', text: TEXT }], stop_reason: 'end_turn', usage: { input_tokens: 9, output_tokens: 21 } })],
  ['Responses', responsesJsonMeter, JSON.stringify({ id: 'resp_1', object: 'response', status: 'completed', model: 'gpt-5', output: [{ type: 'message', content: [{ type: 'output_text', text: TEXT }] }], usage: { input_tokens: 9, output_tokens: 21 }, user: null, metadata: {} })],
  ['Gemini', () => geminiMeter('application/json')!, JSON.stringify({ candidates: [{ content: { parts: [{ text: TEXT }], role: 'model' }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 21 }, modelVersion: 'gemini-x', responseId: 'r' }, null, 2)],
  ['Bedrock Converse', () => bedrockJsonMeter({}, true), JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: TEXT }] } }, stopReason: 'end_turn', usage: { inputTokens: 9, outputTokens: 21 }, metrics: { latencyMs: 5 } })],
  ['Bedrock InvokeModel', () => bedrockJsonMeter({}, false), JSON.stringify({ id: 'm', type: 'message', content: [{ type: 'text', text: TEXT }], usage: { input_tokens: 9, output_tokens: 21 } })],
];

t.test('JSON meters: a whole answer is its report; one cut before it is estimated from its bytes', async (t) => {
  for (const [name, make, body] of JSON_ANSWERS) {
    const whole = make();
    whole.write(Buffer.from(body));
    whole.end();
    t.equal(whole.usageFinal, true, `${name}: whole`);
    t.equal(whole.usage.outputTokens, 21, `${name}: its own count`);
    t.equal(completeUsage(whole.usage, whole, 400), false, `${name}: not estimated`);
    // Cut where a client that read the text hangs up: before the usage, or inside it.
    for (const cut of [body.indexOf('usage') - 2, body.length - 3]) {
      const m = make();
      const bytes = Buffer.from(body.slice(0, cut));
      for (let at = 0; at < bytes.length; at += 7) m.write(bytes.subarray(at, at + 7));
      m.end();
      t.equal(m.usageFinal, false, `${name}: cut at ${cut} of ${body.length}`);
      t.equal(m.estimatedOutputTokens, Math.ceil(bytes.length / 4), `${name}: a token per 4 bytes read`);
      const usage = { ...m.usage };
      t.equal(completeUsage(usage, m, 400), true);
      t.same([usage.inputTokens, usage.outputTokens], [100, Math.ceil(bytes.length / 4)], `${name}: estimated`);
    }
  }
});

t.test('JSON meters: a whole answer without a report is estimated, a background Response not yet run is not', async (t) => {
  const read = (m: UsageMeter, body: string): UsageMeter => {
    m.write(Buffer.from(body));
    m.end();
    return m;
  };
  const bare = '{"id":"c","object":"chat.completion","model":"local","choices":[{"message":{"content":"hi there"}}]}';
  t.equal(read(openaiJsonMeter(), bare).usageFinal, false, 'a service that reports no usage');
  t.equal(read(openaiJsonMeter(), bare).estimatedOutputTokens, Math.ceil(bare.length / 4));
  t.equal(read(openaiJsonMeter(), '{"id":"c","model":"m","choices":[],"usage":null}').usageFinal, false, 'usage: null is no report');
  t.equal(read(anthropicMeter('application/json')!, '<html>Bad gateway</html>').usageFinal, true, 'bytes that cannot begin an answer are taken as they are');
  t.equal(read(anthropicMeter('application/json')!, ' "a string"').usageFinal, true);
  const empty = anthropicMeter('application/json')!;
  empty.end();
  t.same([empty.usageFinal, empty.estimatedOutputTokens], [false, 0], 'cut before its first byte: the input is estimated, no output');
  t.equal(read(responsesJsonMeter(), '{"id":"resp_1","object":"response","status":"queued","background":true,"model":"gpt-5","output":[],"usage":null}').usageFinal, true, 'queued: nothing generated yet');
  t.equal(read(responsesJsonMeter(), '{"id":"resp_1","object":"response","status":"completed","model":"gpt-5","output":[],"usage":null}').usageFinal, false);
  t.equal(read(bedrockJsonMeter({}, false), '{"outputs":[{"text":"hi","stop_reason":"stop"}]}').usageFinal, false, 'a model body without counts');
  t.equal(read(bedrockJsonMeter({}, false), '{"inputTextTokenCount":3,"results":[{"tokenCount":4,"outputText":"hi"}]}').usageFinal, true, 'Titan counts');
  t.equal(bedrockJsonMeter({ 'x-amzn-bedrock-input-token-count': '3', 'x-amzn-bedrock-output-token-count': '4' }, true).usageFinal, undefined, 'counts in the headers are taken as they are');
});

t.test('only a generation the upstream accepted is estimated', async (t) => {
  t.equal(estimable('generation', 200), true);
  t.equal(estimable('generation', 206), true);
  for (const status of [0, 101, 304, 400, 429, 500, 529]) t.equal(estimable('generation', status), false, `status ${status}`);
  t.equal(estimable('auxiliary', 200), false);
  t.equal(estimable('operational', 200), false);
});
