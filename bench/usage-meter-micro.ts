/**
 * What reading a non-streamed answer's usage costs, in-process: the Anthropic, OpenAI,
 * Bedrock Converse and Gemini JSON meters (model and counts read from the answer's bytes, `core/stream/json-shallow.ts`)
 * against what they replace — the answer decoded to a string, and that string parsed
 * whole — for answers of 1 and 16 KB, all ASCII and with text outside ASCII. All three run
 * interleaved in the same process; each figure is the median of the rounds, in ns per
 * answer (wall clock).
 *
 *   npx tsx bench/usage-meter-micro.ts [--iterations 20000] [--rounds 7]
 */
import { parseArgs } from 'node:util';
import type { UsageMeter } from '../core/types.js';
import { anthropicMeter } from '../providers/anthropic/usage.js';
import { openaiJsonMeter } from '../providers/openai/usage.js';
import { bedrockJsonMeter } from '../providers/bedrock/usage.js';
import { geminiMeter } from '../providers/gemini/usage.js';
import { interleavedMedians } from './lib/micro.js';

const { values: args } = parseArgs({ options: { iterations: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '7' } } });
const N = Number(args.iterations);
const ROUNDS = Number(args.rounds);

/** An answer as the Messages API writes it today: usage last, with its nested cache counts. */
function message(text: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 2095, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 }, output_tokens: 503, service_tier: 'standard' },
    }),
  );
}

/** A chat completion as OpenAI writes it today: usage, then two plain members. */
function completion(text: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
      object: 'chat.completion',
      created: 1741570283,
      model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1117, completion_tokens: 46, total_tokens: 1163, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
      service_tier: 'default',
      system_fingerprint: 'fp_fc9f1d7035',
    }),
  );
}

/** A Converse answer as Bedrock writes it: usage, then the metrics (no token-count headers). */
function converse(text: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      output: { message: { role: 'assistant', content: [{ text }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 2095, outputTokens: 503, totalTokens: 2598, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 },
      metrics: { latencyMs: 1275 },
    }),
  );
}

/** A generateContent answer as Gemini writes it: pretty-printed, usage, model and id last. */
function generateContent(text: string): Buffer {
  return Buffer.from(
    JSON.stringify(
      {
        candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 2095, candidatesTokenCount: 503, totalTokenCount: 2598, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 2095 }] },
        modelVersion: 'gemini-2.5-flash',
        responseId: 'mJ1ZaKqBFcWF7M8PzJvXqAQ',
      },
      null,
      2,
    ),
  );
}

const PROVIDERS: Array<[string, (text: string) => Buffer, () => UsageMeter]> = [
  ['Anthropic', message, () => anthropicMeter('application/json')!],
  ['OpenAI', completion, openaiJsonMeter],
  ['Bedrock Converse', converse, () => bedrockJsonMeter({}, true)],
  ['Gemini', generateContent, () => geminiMeter('application/json')!],
];
const CASES: Array<[string, Buffer, () => UsageMeter]> = [];
for (const [provider, answer, newMeter] of PROVIDERS) {
  for (const [size, text] of [['1 KB, ASCII', 'x'.repeat(700)], ['16 KB, ASCII', 'x'.repeat(16_000)], ['16 KB, with é', 'café '.repeat(3_200)]]) {
    CASES.push([`${provider}, ${size}`, answer(text), newMeter]);
  }
}

let sink = 0;

function meter(newMeter: () => UsageMeter, bytes: Buffer): void {
  const m = newMeter();
  m.write(bytes);
  m.end();
  sink += m.usage.outputTokens;
}

function decode(bytes: Buffer): void {
  sink += bytes.toString('utf8').length;
}

function parseWhole(bytes: Buffer): void {
  sink += (JSON.parse(bytes.toString('utf8')) as { usage: object | null }).usage ? 1 : 0;
}

function time(f: (b: Buffer) => void, bytes: Buffer): number {
  const started = performance.now();
  for (let i = 0; i < N; i++) f(bytes);
  return ((performance.now() - started) * 1e6) / N;
}

process.stdout.write('| answer | JSON meter (ns) | decode alone (ns) | decode + JSON.parse (ns) |\n|---|---|---|---|\n');
for (const [name, bytes, newMeter] of CASES) {
  const metered = (b: Buffer) => meter(newMeter, b);
  const [ns, decoded, parsed] = interleavedMedians(ROUNDS, [() => time(metered, bytes), () => time(decode, bytes), () => time(parseWhole, bytes)]);
  process.stdout.write(`| ${name} (${bytes.length} B) | ${ns.toFixed(0)} | ${decoded.toFixed(0)} | ${parsed.toFixed(0)} |\n`);
}
process.stdout.write(`\n${N} answers × ${ROUNDS} rounds per figure, medians; the meter's answer checked: ${sink > 0}\n`);
