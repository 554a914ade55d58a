/**
 * What reading one OpenAI chat stream chunk costs (`ChunkReader.read`, the meter's and the
 * usage-chunk filter's per-event work, SSE framing aside), in ns per chunk: a stream as
 * OpenAI sends it (a few characters a chunk, `"usage":null` and an `obfuscation` pad on
 * each) and one as a batching server (vLLM, Ollama, a proxy) sends it (400 characters a
 * chunk). `--baseline` names another build's `providers/openai/usage.js` (main's dist, say)
 * to time beside this tree's (its source, or `--current`, its dist), interleaved in the same
 * process; medians of the rounds.
 *
 *   npx tsx bench/chunk-reader-micro.ts [--baseline ../main/dist/providers/openai/usage.js] [--current dist/providers/openai/usage.js] [--rounds 9]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ChunkReader } from '../providers/openai/usage.js';
import { interleavedMedians } from './lib/micro.js';

const { values: args } = parseArgs({ options: { baseline: { type: 'string' }, current: { type: 'string' }, rounds: { type: 'string', default: '9' }, streams: { type: 'string', default: '2000' } } });
const ROUNDS = Number(args.rounds);
const STREAMS = Number(args.streams);

type Reader = { read(data: string): boolean; readonly estimatedOutputTokens: number };
const load = async (file: string): Promise<new () => Reader> => ((await import(pathToFileURL(path.resolve(file)).href)) as { ChunkReader: new () => Reader }).ChunkReader;
const Current = args.current ? await load(args.current) : ChunkReader;
const readers: Array<[string, () => Reader]> = [['this tree', () => new Current()]];
if (args.baseline) {
  const Baseline = await load(args.baseline);
  readers.unshift(['baseline', () => new Baseline()]);
}

const chunk = (content: string, pad: string): string =>
  JSON.stringify({ id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG', object: 'chat.completion.chunk', created: 1741570283, model: 'gpt-4o-2024-08-06', service_tier: 'default', system_fingerprint: 'fp_fc9f1d7035', choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }], usage: null, obfuscation: pad });

const STREAM_CASES: Array<[string, string[]]> = [
  ['OpenAI, 4 chars a chunk', Array.from({ length: 200 }, (_, i) => chunk(' fox', 'aB3dE'.slice(0, 1 + (i % 5))))],
  ['batched, 400 chars a chunk', Array.from({ length: 20 }, () => chunk('The quick brown fox jumps over the lazy dog. '.repeat(9).slice(0, 400), ''))],
];

let sink = 0;
process.stdout.write(`| stream | ${readers.map(([name]) => `${name} (ns/chunk)`).join(' | ')} | estimate |\n|---|${readers.map(() => '---|').join('')}---|\n`);
for (const [name, datas] of STREAM_CASES) {
  const estimates: number[] = [];
  const measures = readers.map(([, make], i) => () => {
    const started = process.hrtime.bigint();
    for (let s = 0; s < STREAMS; s++) {
      const r = make();
      for (const d of datas) sink += r.read(d) ? 1 : 0;
      estimates[i] = r.estimatedOutputTokens;
    }
    return Number(process.hrtime.bigint() - started) / (STREAMS * datas.length);
  });
  const ns = interleavedMedians(ROUNDS, measures);
  process.stdout.write(`| ${name} (${datas.length} chunks of ${datas[0].length} B) | ${ns.map((n) => n.toFixed(0)).join(' | ')} | ${estimates.join(' vs ')} |\n`);
}
process.stdout.write(`\n${STREAMS} streams × ${ROUNDS} rounds per figure, medians (${sink})\n`);
