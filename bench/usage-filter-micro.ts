/**
 * What the usage-chunk filter costs an event (`UsageChunkFilter.write`: framing, reading the
 * data, the ChunkReader), in ns per event, on a stream whose client did not ask for usage
 * (the gateway did): OpenAI-sized chunks (a few characters, `"usage":null` and an
 * `obfuscation` pad on each) and batched ones (400 characters), one event a write as
 * upstreams send them, then the usage chunk and `[DONE]`. `--baseline` names another
 * build's `providers/openai/usage-filter.js` (main's dist, say) to time beside this tree's
 * (its source, or `--current`, its dist), interleaved in the same process; medians.
 *
 *   npx tsx bench/usage-filter-micro.ts [--baseline ../main/dist/providers/openai/usage-filter.js] [--current dist/providers/openai/usage-filter.js] [--rounds 9]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { UsageChunkFilter } from '../providers/openai/usage-filter.js';
import { interleavedMedians } from './lib/micro.js';

const { values: args } = parseArgs({ options: { baseline: { type: 'string' }, current: { type: 'string' }, rounds: { type: 'string', default: '9' }, streams: { type: 'string', default: '1000' } } });
const ROUNDS = Number(args.rounds);
const STREAMS = Number(args.streams);

type Filter = { write(chunk: Uint8Array): Uint8Array; end(): Uint8Array };
type Options = { dropUsage: boolean; endCutStream: boolean };
const load = async (file: string): Promise<new (o: Options) => Filter> =>
  ((await import(pathToFileURL(path.resolve(file)).href)) as { UsageChunkFilter: new (o: Options) => Filter }).UsageChunkFilter;
const Current = args.current ? await load(args.current) : UsageChunkFilter;
const filters: Array<[string, new (o: Options) => Filter]> = [['this tree', Current]];
if (args.baseline) filters.unshift(['baseline', await load(args.baseline)]);

const base = { id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG', object: 'chat.completion.chunk', created: 1741570283, model: 'gpt-4o-2024-08-06', service_tier: 'default', system_fingerprint: 'fp_fc9f1d7035' };
const event = (data: unknown): Buffer => Buffer.from(`data: ${JSON.stringify(data)}\n\n`);
const chunk = (content: string, pad: string): Buffer => event({ ...base, choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }], usage: null, obfuscation: pad });
const tail = [event({ ...base, choices: [], usage: { prompt_tokens: 100, completion_tokens: 200, total_tokens: 300 } }), Buffer.from('data: [DONE]\n\n')];

const CASES: Array<[string, Buffer[]]> = [
  ['OpenAI, 4 chars a chunk', [...Array.from({ length: 200 }, (_, i) => chunk(' fox', 'aB3dE'.slice(0, 1 + (i % 5)))), ...tail]],
  ['batched, 400 chars a chunk', [...Array.from({ length: 20 }, () => chunk('The quick brown fox jumps over the lazy dog. '.repeat(9).slice(0, 400), '')), ...tail]],
];

let sink = 0;
process.stdout.write(`| stream | ${filters.map(([name]) => `${name} (ns/event)`).join(' | ')} | bytes out |\n|---|${filters.map(() => '---|').join('')}---|\n`);
for (const [name, events] of CASES) {
  const bytes: number[] = [];
  const measures = filters.map(([, Make], i) => () => {
    const started = process.hrtime.bigint();
    let out = 0;
    for (let s = 0; s < STREAMS; s++) {
      const f = new Make({ dropUsage: true, endCutStream: false });
      for (const e of events) out += f.write(e).length;
      out += f.end().length;
    }
    bytes[i] = out / STREAMS;
    return Number(process.hrtime.bigint() - started) / (STREAMS * events.length);
  });
  const ns = interleavedMedians(ROUNDS, measures);
  sink += bytes[0];
  process.stdout.write(`| ${name} (${events.length} events) | ${ns.map((n) => n.toFixed(0)).join(' | ')} | ${bytes.join(' vs ')} |\n`);
}
process.stdout.write(`\n${STREAMS} streams × ${ROUNDS} rounds per figure, medians (${sink > 0 ? 'ok' : 'none'})\n`);
