/**
 * What metering a streamed answer costs, in-process: the Anthropic stream meter over a
 * 64-frame Messages stream, one frame per chunk as answers arrive (its 59 token deltas
 * passed over unread, `SseDecoder`'s `skip`), against an SSE decoder that decodes and
 * delivers every event (what the skip replaces); and the same stream in one chunk. Run
 * interleaved in one process; medians of the rounds, in µs per stream and ns per delta.
 *
 *   npx tsx bench/stream-meter-micro.ts [--iterations 5000] [--rounds 9]
 */
import { parseArgs } from 'node:util';
import { SseDecoder } from '../core/stream/sse.js';
import { AnthropicStreamMeter } from '../providers/anthropic/usage.js';
import { interleavedMedians } from './lib/micro.js';

const { values: args } = parseArgs({ options: { iterations: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '9' } } });
const N = Number(args.iterations);
const ROUNDS = Number(args.rounds);
const FRAMES = 64;
const DELTAS = FRAMES - 5;

function event(name: string, data: unknown): Buffer {
  return Buffer.from(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** A Messages stream as the API sends it: start, a text block of deltas, stop, usage. */
function messagesStream(): Buffer[] {
  const message = { id: 'msg_01XFDUDYJgAACzvnptvVoYEL', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 250, output_tokens: 1 } };
  const frames = [event('message_start', { type: 'message_start', message }), event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })];
  for (let i = 0; i < DELTAS; i++) frames.push(event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ` token${i}` } }));
  frames.push(
    event('content_block_stop', { type: 'content_block_stop', index: 0 }),
    event('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: DELTAS } }),
    event('message_stop', { type: 'message_stop' }),
  );
  return frames;
}

const frames = messagesStream();
const whole = Buffer.concat(frames);
let sink = 0;

/** µs per stream of `run` over `chunks`. */
function time(run: (chunks: readonly Buffer[]) => number, chunks: readonly Buffer[]): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) sink += run(chunks);
  return Number(process.hrtime.bigint() - start) / N / 1000;
}

function metered(chunks: readonly Buffer[]): number {
  const meter = new AnthropicStreamMeter();
  for (const c of chunks) meter.write(c);
  meter.end();
  return meter.usage.outputTokens;
}

function decodedWhole(chunks: readonly Buffer[]): number {
  let n = 0;
  const decoder = new SseDecoder((name, data) => {
    n += name.length + data.length;
  });
  for (const c of chunks) decoder.push(c);
  decoder.end();
  return n;
}

process.stdout.write(`| ${FRAMES}-frame Messages stream | meter, µs | every event decoded, µs | meter, ns per delta beyond the rest |\n|---|---|---|---|\n`);
for (const [name, chunks] of [
  ['one frame per chunk', frames],
  ['one chunk', [whole]],
] as const) {
  const [meter, decoded] = interleavedMedians(ROUNDS, [() => time(metered, chunks), () => time(decodedWhole, chunks)]);
  // The five frames that are not deltas are read either way; the deltas are what the skip saves.
  const [headOnly] = interleavedMedians(ROUNDS, [() => time(metered, chunks === frames ? [...frames.slice(0, 2), ...frames.slice(-3)] : [Buffer.concat([...frames.slice(0, 2), ...frames.slice(-3)])])]);
  process.stdout.write(`| ${name} | ${meter.toFixed(2)} | ${decoded.toFixed(2)} | ${(((meter - headOnly) * 1000) / DELTAS).toFixed(0)} |\n`);
}
process.stdout.write(`\n${N} streams × ${ROUNDS} rounds per figure, medians; the meter's count checked: ${sink > 0}\n`);
