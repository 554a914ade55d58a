/**
 * JsonBodyMeter reads usage from answers past JSON_METER_LIMIT too, from the ends it keeps
 * of them: each provider's answer, in the shape the provider writes it (compact or
 * pretty-printed, usage last or followed by a few members), is charged the counts it
 * reports. They were counted as 0 tokens.
 */
import t from 'tap';
import type { UsageMeter } from '../../core/provider-types.js';
import { JSON_METER_LIMIT } from '../../core/stream/json-meter.js';
import { anthropicMeter } from '../../providers/anthropic/usage.js';
import { bedrockJsonMeter } from '../../providers/bedrock/usage.js';
import { geminiMeter } from '../../providers/gemini/usage.js';
import { responsesJsonMeter } from '../../providers/openai/responses-usage.js';
import { openaiJsonMeter } from '../../providers/openai/usage.js';

/** About 9 MiB of answer text, with what JSON escapes. */
const TEXT = 'Some "quoted" words, a \\ backslash, {braces} and [brackets], été. '.repeat(140_000);

/** Feed `body` as a socket would (64 KiB reads), end, and say what the meter read. */
function metered(meter: UsageMeter, body: string): { usage: unknown; model: string | undefined } {
  const bytes = Buffer.from(body);
  for (let at = 0; at < bytes.length; at += 65536) meter.write(bytes.subarray(at, at + 65536));
  meter.end();
  return { usage: { ...meter.usage }, model: meter.model };
}

/** One OpenAI `logprobs.content` entry with `top_logprobs: 20`: about a kilobyte a token. */
function logprob(token: string): unknown {
  const top = Array.from({ length: 20 }, (_, i) => ({ token: `${token}${i}`, logprob: -0.5 * i, bytes: [...Buffer.from(`${token}${i}`)] }));
  return { token, logprob: -0.01, bytes: [...Buffer.from(token)], top_logprobs: top };
}

const CASES: Array<{ name: string; meter: () => UsageMeter; body: () => string; usage: unknown; model: string | undefined }> = [
  {
    name: 'OpenAI chat completion, n=2 with logprobs',
    meter: openaiJsonMeter,
    body: () => {
      const content = Array.from({ length: 5000 }, (_, i) => logprob(` w${i}`));
      const choice = (index: number) => ({ index, message: { role: 'assistant', content: 'w '.repeat(5000), refusal: null, annotations: [] }, logprobs: { content, refusal: null }, finish_reason: 'stop' });
      return JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1741570283, model: 'gpt-4o-2024-08-06', choices: [choice(0), choice(1)], usage: { prompt_tokens: 1117, completion_tokens: 10000, total_tokens: 11117, prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } }, service_tier: 'default', system_fingerprint: 'fp_fc9f1d7035' });
    },
    usage: { inputTokens: 93, outputTokens: 10000, cacheCreationTokens: 0, cacheReadTokens: 1024 },
    model: 'gpt-4o-2024-08-06',
  },
  {
    name: 'Anthropic Message',
    meter: () => anthropicMeter('application/json')!,
    body: () => JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [{ type: 'text', text: TEXT }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 2000, cache_creation_input_tokens: 10, cache_read_input_tokens: 20, output_tokens: 64000, service_tier: 'standard' } }),
    usage: { inputTokens: 2000, outputTokens: 64000, cacheCreationTokens: 10, cacheReadTokens: 20 },
    model: 'claude-sonnet-4-5-20250929',
  },
  {
    name: 'OpenAI Responses object (tools before usage, user and metadata after)',
    meter: responsesJsonMeter,
    body: () =>
      JSON.stringify({
        id: 'resp_1', object: 'response', created_at: 1741476542, status: 'completed', background: false, error: null, incomplete_details: null,
        instructions: 'You are a "careful" assistant.\n', max_output_tokens: null, model: 'gpt-5-2025-08-07',
        output: [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: TEXT }] }],
        parallel_tool_calls: true, previous_response_id: null, reasoning: { effort: 'medium', summary: null }, service_tier: 'default', store: true, temperature: 1,
        text: { format: { type: 'text' }, verbosity: 'medium' }, tool_choice: 'auto',
        tools: [{ type: 'function', name: 'read_file', description: 'Reads a "file".\nReturns its text.', parameters: { type: 'object', properties: { path: { type: 'string' } } }, strict: true }],
        top_p: 1, truncation: 'disabled',
        usage: { input_tokens: 5000, input_tokens_details: { cached_tokens: 4000 }, output_tokens: 9000, output_tokens_details: { reasoning_tokens: 1000 }, total_tokens: 14000 },
        user: null, metadata: { note: 'a "quoted" value' },
      }),
    usage: { inputTokens: 1000, outputTokens: 9000, cacheCreationTokens: 0, cacheReadTokens: 4000 },
    model: 'gpt-5-2025-08-07',
  },
  {
    name: 'Gemini generateContent answer (pretty-printed)',
    meter: () => geminiMeter('application/json; charset=UTF-8')!,
    body: () =>
      JSON.stringify({
        candidates: [{ content: { parts: [{ text: TEXT }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 1200, candidatesTokenCount: 50000, totalTokenCount: 51230, cachedContentTokenCount: 1000, thoughtsTokenCount: 30 },
        modelVersion: 'gemini-2.5-pro',
        responseId: 'mJ1ZaKqBFcWF7M8PzJvXqAQ',
      }, null, 2),
    usage: { inputTokens: 200, outputTokens: 50030, cacheCreationTokens: 0, cacheReadTokens: 1000 },
    model: 'gemini-2.5-pro',
  },
  {
    name: 'Gemini JSON-array stream (streamGenerateContent without alt=sse)',
    meter: () => geminiMeter('application/json; charset=UTF-8')!,
    body: () => {
      const piece = TEXT.slice(0, 60_000);
      const chunks = Array.from({ length: 160 }, (_, i) => JSON.stringify({ candidates: [{ content: { parts: [{ text: piece }], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: 1200, totalTokenCount: 1200 }, modelVersion: 'gemini-2.5-flash' }, null, 2));
      chunks.push(JSON.stringify({ candidates: [{ content: { parts: [{ text: '.' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 1200, candidatesTokenCount: 2400000, totalTokenCount: 2401200 }, modelVersion: 'gemini-2.5-flash' }, null, 2));
      return `[${chunks.join(',\r\n')}]`;
    },
    usage: { inputTokens: 1200, outputTokens: 2400000, cacheCreationTokens: 0, cacheReadTokens: 0 },
    model: 'gemini-2.5-flash',
  },
  {
    name: 'Bedrock Converse answer (metrics after usage)',
    meter: () => bedrockJsonMeter({}, true),
    body: () => JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: TEXT }] } }, stopReason: 'end_turn', usage: { inputTokens: 30, outputTokens: 60000, totalTokens: 60030, cacheReadInputTokens: 5, cacheWriteInputTokens: 7 }, metrics: { latencyMs: 90000 } }),
    usage: { inputTokens: 30, outputTokens: 60000, cacheCreationTokens: 7, cacheReadTokens: 5 },
    model: undefined,
  },
  {
    name: 'Bedrock InvokeModel answer of an Anthropic model',
    meter: () => bedrockJsonMeter({}, false),
    body: () => JSON.stringify({ id: 'msg_bdrk_1', type: 'message', role: 'assistant', model: 'claude-3-sonnet', content: [{ type: 'text', text: TEXT }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 40, output_tokens: 61000 } }),
    usage: { inputTokens: 40, outputTokens: 61000, cacheCreationTokens: 0, cacheReadTokens: 0 },
    model: undefined,
  },
];

for (const c of CASES) {
  t.test(`${c.name} past ${JSON_METER_LIMIT / 2 ** 20} MiB`, async (t) => {
    const body = c.body();
    t.ok(Buffer.byteLength(body) > JSON_METER_LIMIT, `${(Buffer.byteLength(body) / 2 ** 20).toFixed(1)} MiB`);
    t.same(metered(c.meter(), body), { usage: c.usage, model: c.model });
  });
}

t.test('usage among the opening members is read too', async (t) => {
  const early = JSON.stringify({ id: 'm', type: 'message', model: 'claude-x', usage: { input_tokens: 1, output_tokens: 2 }, content: [{ type: 'text', text: TEXT }] });
  const meter = anthropicMeter('application/json')!;
  t.same(metered(meter, early).usage, { inputTokens: 1, outputTokens: 2, cacheCreationTokens: 0, cacheReadTokens: 0 });
  t.equal(meter.usageFinal, true);
});

t.test('a large body whose usage cannot be read from its ends is estimated from its bytes', async (t) => {
  const whole = CASES[1].body();
  const bodies: Array<[string, string]> = [
    ['cut before its end', whole.slice(0, -2)],
    ['usage within the bulk', JSON.stringify({ id: 'm', content: [{ type: 'text', text: TEXT, usage: { input_tokens: 1, output_tokens: 2 } }] })],
    ['usage longer than the tail kept', JSON.stringify({ id: 'm', content: [{ type: 'text', text: TEXT }], usage: { input_tokens: 1, output_tokens: 2, note: 'x'.repeat(300 * 1024) } })],
  ];
  for (const [why, body] of bodies) {
    const meter = anthropicMeter('application/json')!;
    t.same(metered(meter, body).usage, { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 }, `${why}: nothing read`);
    t.equal(meter.usageFinal, false, `${why}: no report`);
    t.equal(meter.estimatedOutputTokens, Math.ceil(Buffer.byteLength(body) / 4), `${why}: a token per 4 bytes`);
  }
  const page = anthropicMeter('application/json')!;
  metered(page, `<html>${TEXT}</html>`);
  t.equal(page.usageFinal, true, 'bytes that cannot begin an answer are no answer: nothing estimated');
});
