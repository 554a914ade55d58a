/**
 * What reading one OpenAI chat stream chunk costs (`ChunkReader.read`, the meter's and the
 * usage-chunk filter's per-event work, SSE framing aside), in ns per chunk: a stream as
 * OpenAI sends it (a few characters a chunk, `"usage":null` and an `obfuscation` pad on
 * each) and one as a batching server (vLLM, Ollama, a proxy) sends it (400 characters a
 * chunk). `--baseline` names another build's `providers/openai/usage.js` (main's dist, say)
 * to time beside this tree's (its source, or `--current`, its dist), interleaved in the same
 * process; medians of the rounds. Also `generatedChars` over Mistral Conversations
 * `message.output.delta` data (the Conversations meter's per-delta work), in ns per delta.
 *
 *   npx tsx bench/chunk-reader-micro.ts [--baseline ../main/dist/providers/openai/usage.js] [--current dist/providers/openai/usage.js] [--rounds 9]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ChunkReader, generatedChars } from '../providers/openai/usage.js';
import { interleavedMedians } from './lib/micro.js';

const { values: args } = parseArgs({ options: { baseline: { type: 'string' }, current: { type: 'string' }, rounds: { type: 'string', default: '9' }, streams: { type: 'string', default: '2000' } } });
const ROUNDS = Number(args.rounds);
const STREAMS = Number(args.streams);

type Reader = { read(data: string): boolean; readonly estimatedOutputTokens: number };
type Module = { ChunkReader: new () => Reader; generatedChars: (data: string, from: number) => number };
const load = async (file: string): Promise<Module> => (await import(pathToFileURL(path.resolve(file)).href)) as Module;
const current: Module = args.current ? await load(args.current) : { ChunkReader, generatedChars };
const modules: Array<[string, Module]> = [['this tree', current]];
if (args.baseline) modules.unshift(['baseline', await load(args.baseline)]);
const readers: Array<[string, () => Reader]> = modules.map(([name, m]) => [name, () => new m.ChunkReader()]);

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

/** A Conversations stream's delta data, as Mistral sends it (the model and timestamps on each). */
const delta = (content: string): string =>
  JSON.stringify({ type: 'message.output.delta', created_at: '2026-12-01T10:40:45.123456Z', output_index: 0, id: 'msg_0685fd1c4a0f7d2b8000e1f5a9c3b7d1', content_index: 0, model: 'mistral-medium-2505', agent_id: null, role: 'assistant', content });
const DELTA_CASES: Array<[string, string[]]> = [
  ['Mistral delta, 4 chars', Array.from({ length: 200 }, () => delta(' fox'))],
  ['Mistral delta, 400 chars', Array.from({ length: 20 }, () => delta('The quick brown fox: jumps over the lazy dog. '.repeat(9).slice(0, 400)))],
];
process.stdout.write(`\n| Conversations delta | ${modules.map(([name]) => `${name} (ns/delta)`).join(' | ')} | chars |\n|---|${modules.map(() => '---|').join('')}---|\n`);
for (const [name, datas] of DELTA_CASES) {
  const chars: number[] = [];
  const measures = modules.map(([, m], i) => () => {
    const started = process.hrtime.bigint();
    let n = 0;
    for (let s = 0; s < STREAMS; s++) for (const d of datas) n += m.generatedChars(d, 0);
    chars[i] = n;
    return Number(process.hrtime.bigint() - started) / (STREAMS * datas.length);
  });
  const ns = interleavedMedians(ROUNDS, measures);
  process.stdout.write(`| ${name} (${datas.length} of ${datas[0].length} B) | ${ns.map((n) => n.toFixed(0)).join(' | ')} | ${chars.join(' vs ')} |\n`);
}

process.stdout.write(`\n${STREAMS} streams × ${ROUNDS} rounds per figure, medians (${sink})\n`);
