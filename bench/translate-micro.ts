/**
 * The unified endpoint's request translation, in-process: an OpenAI chat body read as core
 * reads it (`ctx.rewritableBody()`), translated to Anthropic Messages, Gemini and Bedrock
 * Converse and serialised, the plain way (`JSON.stringify`, then bytes) against the
 * request's long strings copied from their literals (`strings.serialize`). Rounds
 * alternate; medians of µs per request, and of the page faults a request took: a row whose
 * faults are near 25 (a 100 KB buffer's pages, fresh from the kernel at ~10 µs each here)
 * times the kernel, not the serialiser (seventy-second session: literals 1.16 × plain
 * in one run, 0.07 × in the next).
 *
 *   npx tsx bench/translate-micro.ts [--rounds 9]
 */
import { parseArgs } from 'node:util';
import { BYTE_STRINGS, type BodyStrings } from '../core/json-body.js';
import type { ChatRequest } from '../core/types.js';
import { openAIToAnthropicRequest } from '../providers/translate/openai-anthropic/index.js';
import type { OpenAIChatRequest } from '../providers/translate/openai-anthropic/openai-types.js';
import { prepareConverseChat } from '../providers/translate/openai-converse/index.js';
import { openAIToGeminiRequest } from '../providers/translate/openai-gemini/index.js';
import { contextWithBody } from '../test/helpers/context.js';
import { messagesBody, type BodyText } from './lib/requests.js';
import { interleavedMedians, timedWithFaults } from './lib/micro.js';
import { median } from './lib/proc.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '9' } } });
const ROUNDS = Number(args.rounds);

/** A translation: the request and how its strings are held in, the bytes it would send out. */
type Translate = (request: OpenAIChatRequest, strings: BodyStrings) => Buffer;
const TRANSLATIONS: ReadonlyArray<[name: string, translate: Translate]> = [
  ['Anthropic', (request, strings) => strings.serialize(openAIToAnthropicRequest(request, { defaultMaxTokens: 1024, strings }))],
  ['Gemini', (request, strings) => strings.serialize(openAIToGeminiRequest(request, strings))],
  ['Converse', (request, strings) => prepareConverseChat(request as unknown as ChatRequest, { strings, id: 'chatcmpl-x', created: 1 }).body],
];

const CASES: ReadonlyArray<[name: string, bytes: number, text: BodyText]> = [
  ['100 KB agent text', 102_400, 'agent'],
  ['100 KB ASCII', 102_400, 'ascii'],
  ['16 KB agent text', 16_384, 'agent'],
];

console.log('| body | to | plain µs | literals µs | × plain | page faults a request (plain / literals) |');
console.log('|---|---|---|---|---|---|');
for (const [name, size, text] of CASES) {
  const body = Buffer.from(messagesBody(size, true, 'claude-bench', text));
  const { value, strings } = contextWithBody(body).rewritableBody();
  const request = value as OpenAIChatRequest;
  for (const [to, translate] of TRANSLATIONS) {
    const withPlain = (): Buffer => translate(request, { ...strings, serialize: BYTE_STRINGS.serialize });
    const withLiterals = (): Buffer => translate(request, strings);
    if (!withPlain().equals(withLiterals())) throw new Error(`${name} to ${to}: the two ways sent different bytes`);
    const faults: [number[], number[]] = [[], []];
    const measure = (f: () => Buffer, into: number[]) => (): number => {
      const t = timedWithFaults(f);
      into.push(t.faults);
      return t.us;
    };
    const [p, l] = interleavedMedians(ROUNDS, [measure(withPlain, faults[0]), measure(withLiterals, faults[1])]);
    console.log(`| ${name} | ${to} | ${p.toFixed(1)} | ${l.toFixed(1)} | ${(l / p).toFixed(2)} | ${median(faults[0]).toFixed(1)} / ${median(faults[1]).toFixed(1)} |`);
  }
}
console.log(`\n${ROUNDS} alternating rounds per body and translation, medians; each body read once, as core reads it.`);
