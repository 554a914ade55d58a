/**
 * Where a request body's parse goes, in-process: `JSON.parse` of a 100 KB coding agent's
 * turn (bench/lib/session-body.ts) whole and by part, against the same size of agent text
 * in one string, and core's own reading of each (`readShape`, what `ctx.jsonShape()`
 * runs: the long-string scanner, then JSON.parse or the scanner's skeleton). Rounds
 * alternate; medians of µs per call.
 *
 *   npx tsx bench/parse-micro.ts [--rounds 9]
 *
 * What it showed (thirty-third session, µs): the whole turn 208; its 9 KB of tools 36 and 8
 * KB of assistant turns 58 — objects, not bytes — and its 77 KB of tool results 106, text
 * with escapes, ~1 ns a byte (100 KB of agent text in one string: 82, or 64 through the
 * scanner). An agent turn's parse is two fifths objects and keys.
 */
import { parseArgs } from 'node:util';
import { readShape } from '../core/json-body.js';
import { messagesBody } from './lib/requests.js';
import { interleavedMedians, timed } from './lib/micro.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '9' } } });
const ROUNDS = Number(args.rounds);

/** Objects and arrays, and strings, in a parsed value. */
function census(value: unknown): { containers: number; strings: number } {
  let containers = 0;
  let strings = 0;
  const work: unknown[] = [value];
  while (work.length > 0) {
    const v = work.pop();
    if (typeof v === 'string') strings++;
    else if (v !== null && typeof v === 'object') {
      containers++;
      work.push(...Object.values(v));
    }
  }
  return { containers, strings };
}

const turn = Buffer.from(messagesBody(102_400, false, 'claude-bench', 'session'));
const agentText = Buffer.from(messagesBody(102_400, false, 'claude-bench', 'agent'));
const tree = JSON.parse(turn.toString()) as { system: unknown; tools: unknown; messages: Array<{ role: string }> };
const part = (value: unknown): string => JSON.stringify(value);

const TEXTS: ReadonlyArray<[name: string, json: string]> = [
  ['agent turn, whole', turn.toString('latin1')],
  ['  its system blocks', part(tree.system)],
  ['  its tools', part(tree.tools)],
  ['  its assistant turns (text, tool_use)', part(tree.messages.filter((m) => m.role === 'assistant'))],
  ['  its user turns (tool_result)', part(tree.messages.filter((m) => m.role === 'user'))],
  ['agent text, one string', agentText.toString('latin1')],
];

/** `readShape` as the request context calls it, with the exact parse its fallback. */
const shapeOf = (bytes: Buffer): unknown => readShape(bytes, { json: () => JSON.parse(bytes.toString()), keepParsed: (t) => t }).shape;

console.log('| text | bytes | objects and arrays | strings | JSON.parse µs |');
console.log('|---|---|---|---|---|');
const parses = interleavedMedians(ROUNDS, TEXTS.map(([, json]) => () => timed(() => JSON.parse(json))));
for (const [i, [name, json]] of TEXTS.entries()) {
  const { containers, strings } = census(JSON.parse(json));
  console.log(`| ${name} | ${json.length} | ${containers} | ${strings} | ${parses[i].toFixed(1)} |`);
}
const [turnShape, textShape] = interleavedMedians(ROUNDS, [() => timed(() => shapeOf(turn)), () => timed(() => shapeOf(agentText))]);
console.log(`\ncore's readShape (ctx.jsonShape()): agent turn ${turnShape.toFixed(1)} µs, agent text ${textShape.toFixed(1)} µs (medians of ${ROUNDS} rounds)`);
