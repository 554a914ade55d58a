/**
 * What reading a non-streamed Anthropic answer's usage costs, in-process: the JSON meter
 * (model and counts read from the answer's bytes, `core/stream/json-shallow.ts`) against
 * what it replaces — the answer decoded to a string, and that string parsed whole — for
 * answers of 1 and 16 KB, all ASCII and with text outside ASCII. All three run
 * interleaved in the same process; each figure is the median of the rounds, in ns per
 * answer (wall clock).
 *
 *   npx tsx bench/usage-meter-micro.ts [--iterations 20000] [--rounds 7]
 */
import { parseArgs } from 'node:util';
import { anthropicMeter } from '../providers/anthropic/usage.js';
import { median } from './lib/proc.js';

const { values: args } = parseArgs({ options: { iterations: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '7' } } });
const N = Number(args.iterations);
const ROUNDS = Number(args.rounds);

/** An answer as the Messages API writes it today: usage last, with its nested cache counts. */
function answer(text: string): Buffer {
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

const CASES: Array<[string, Buffer]> = [
  ['1 KB, ASCII', answer('x'.repeat(700))],
  ['16 KB, ASCII', answer('x'.repeat(16_000))],
  ['16 KB, with é', answer('café '.repeat(3_200))],
];

let sink = 0;

function meter(bytes: Buffer): void {
  const m = anthropicMeter('application/json')!;
  m.write(bytes);
  m.end();
  sink += m.usage.outputTokens;
}

function decode(bytes: Buffer): void {
  sink += bytes.toString('utf8').length;
}

function parseWhole(bytes: Buffer): void {
  sink += (JSON.parse(bytes.toString('utf8')) as { usage: { output_tokens: number } }).usage.output_tokens;
}

function time(f: (b: Buffer) => void, bytes: Buffer): number {
  const started = performance.now();
  for (let i = 0; i < N; i++) f(bytes);
  return ((performance.now() - started) * 1e6) / N;
}

process.stdout.write('| answer | JSON meter (ns) | decode alone (ns) | decode + JSON.parse (ns) |\n|---|---|---|---|\n');
for (const [name, bytes] of CASES) {
  const runs: Record<'meter' | 'decode' | 'parse', number[]> = { meter: [], decode: [], parse: [] };
  for (let r = 0; r < ROUNDS; r++) {
    runs.meter.push(time(meter, bytes));
    runs.decode.push(time(decode, bytes));
    runs.parse.push(time(parseWhole, bytes));
  }
  process.stdout.write(`| ${name} (${bytes.length} B) | ${median(runs.meter).toFixed(0)} | ${median(runs.decode).toFixed(0)} | ${median(runs.parse).toFixed(0)} |\n`);
}
process.stdout.write(`\n${N} answers × ${ROUNDS} rounds per figure, medians; the meter's answer checked: ${sink > 0}\n`);
