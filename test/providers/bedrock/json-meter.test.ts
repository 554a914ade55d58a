/**
 * The Bedrock JSON meter (Converse and InvokeModel answers without the token-count
 * headers) reads a `usage` object that ends the answer from its bytes, and otherwise parses
 * the answer whole: either way it counts what `JSON.parse` of the answer says.
 */
import t from 'tap';
import { bedrockJsonMeter } from '../../../providers/bedrock/usage.js';
import { mulberry32 } from '../../helpers/prng.js';

type Counts = { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number };

function meterRead(body: string, converse: boolean, headers: Record<string, string> = {}): Counts {
  const m = bedrockJsonMeter(headers, converse);
  const bytes = Buffer.from(body);
  // Split mid-body: the meter sees chunks as they pass.
  m.write(bytes.subarray(0, 7));
  m.write(bytes.subarray(7));
  m.end();
  return { inputTokens: m.usage.inputTokens, outputTokens: m.usage.outputTokens, cacheReadTokens: m.usage.cacheReadTokens, cacheCreationTokens: m.usage.cacheCreationTokens };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const count = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback);

/** What the meter must say: the whole answer parsed, read as Bedrock documents each shape. */
function expected(body: string, converse: boolean): Counts {
  const out: Counts = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
  const doc = JSON.parse(body) as unknown;
  if (!isObject(doc)) return out;
  if (converse) {
    const u = doc.usage;
    if (!isObject(u)) return out;
    return { inputTokens: count(u.inputTokens, 0), outputTokens: count(u.outputTokens, 0), cacheReadTokens: count(u.cacheReadInputTokens, 0), cacheCreationTokens: count(u.cacheWriteInputTokens, 0) };
  }
  const u = isObject(doc.usage) ? doc.usage : isObject(doc.message) && isObject(doc.message.usage) ? doc.message.usage : undefined;
  if (u) return { inputTokens: count(u.input_tokens, 0), outputTokens: count(u.output_tokens, 0), cacheReadTokens: count(u.cache_read_input_tokens, 0), cacheCreationTokens: count(u.cache_creation_input_tokens, 0) };
  const first = Array.isArray(doc.results) && isObject(doc.results[0]) ? doc.results[0] : undefined;
  out.inputTokens = count(doc.inputTextTokenCount, 0);
  out.outputTokens = count(first?.tokenCount, count(doc.totalOutputTextTokenCount, 0));
  return out;
}

const converseAnswer = {
  output: { message: { role: 'assistant', content: [{ text: 'Un café — "usage":{"inputTokens":999}' }, { toolUse: { toolUseId: 't1', name: 'bash', input: { usage: { inputTokens: 998 } } } }] } },
  stopReason: 'end_turn',
  usage: { inputTokens: 30, outputTokens: 628, totalTokens: 658, cacheReadInputTokens: 5, cacheWriteInputTokens: 7 },
  metrics: { latencyMs: 1275 },
};

t.test('a Converse answer is read as JSON.parse reads it, from its bytes or whole', async (t) => {
  const compact = JSON.stringify(converseAnswer);
  t.same(meterRead(compact, true), { inputTokens: 30, outputTokens: 628, cacheReadTokens: 5, cacheCreationTokens: 7 }, "Bedrock's shape");
  for (const [body, why] of [
    [JSON.stringify(converseAnswer, null, 2), 'pretty-printed (parsed whole)'],
    [JSON.stringify({ ...converseAnswer, usage: null }), 'usage null'],
    [JSON.stringify({ usage: converseAnswer.usage, output: converseAnswer.output, stopReason: 'end_turn' }), 'usage first, the output after it (parsed whole)'],
    [JSON.stringify({ output: converseAnswer.output, stopReason: 'end_turn' }), 'no usage at all'],
    [JSON.stringify({ ...converseAnswer, trace: { guardrail: { usage: { inputTokens: 1 } } } }), 'a nested usage after it (parsed whole)'],
  ] as const) {
    t.same(meterRead(body, true), expected(body, true), why);
  }
});

t.test('an InvokeModel answer without the token-count headers: Anthropic from the bytes, Titan parsed', async (t) => {
  const anthropic = JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [{ type: 'text', text: 'héllo' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 11, output_tokens: 12, cache_read_input_tokens: 13, cache_creation_input_tokens: 14 } });
  t.same(meterRead(anthropic, false), { inputTokens: 11, outputTokens: 12, cacheReadTokens: 13, cacheCreationTokens: 14 });
  const titan = JSON.stringify({ inputTextTokenCount: 6, results: [{ tokenCount: 9, outputText: 'hi', completionReason: 'FINISH' }] });
  t.same(meterRead(titan, false), { inputTokens: 6, outputTokens: 9, cacheReadTokens: 0, cacheCreationTokens: 0 });
  const headers = { 'x-amzn-bedrock-input-token-count': '1', 'x-amzn-bedrock-output-token-count': '2' };
  t.same(meterRead(anthropic, false, headers), { inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheCreationTokens: 0 }, 'the headers win; the body is not read');
});

t.test("the bytes' path is what reads Bedrock's shape", async (t) => {
  // The output is passed on unparsed: a body JSON.parse would refuse for its middle alone
  // still has its usage read, which only the path that reads the bytes can do.
  const body = '{"output":{oops},"stopReason":"end_turn","usage":{"inputTokens":3,"outputTokens":4},"metrics":{"latencyMs":1}}';
  t.same(meterRead(body, true), { inputTokens: 3, outputTokens: 4, cacheReadTokens: 0, cacheCreationTokens: 0 });
});

t.test('on a random corpus of answers, the meter says what JSON.parse says', async (t) => {
  const rand = mulberry32(11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const TEXT = ['plain', 'é✓ ünï', 'say "usage":{"inputTokens":1}', '{"usage":{"input_tokens":2}}', '\\', ''];
  const CONVERSE_USAGE: unknown[] = [null, 5, 'x', [], {}, { inputTokens: 12, outputTokens: 3, totalTokens: 15 }, { inputTokens: 40, outputTokens: 9, cacheReadInputTokens: 30, cacheWriteInputTokens: 2 }, { inputTokens: 1.5, outputTokens: -2 }];
  const ANTHROPIC_USAGE: unknown[] = [null, 7, {}, { input_tokens: 21, output_tokens: 4 }, { input_tokens: 50, output_tokens: 8, cache_read_input_tokens: 44, cache_creation_input_tokens: 1 }];
  const TAIL: Array<[string, unknown]> = [['metrics', { latencyMs: 88 }], ['additionalModelResponseFields', { stop_sequence: null }], ['n', 2], ['usage', { inputTokens: 99, outputTokens: 1 }], ['trace', { usage: { inputTokens: 98 } }], ['note', 'a "quoted" tail']];
  let n = 0;
  for (let i = 0; i < 3000; i++) {
    const converse = rand() < 0.6;
    const doc: Record<string, unknown> = {};
    const text = pick(TEXT);
    const head = converse
      ? () => {
          doc.output = { message: { role: 'assistant', content: [{ text }, ...(rand() < 0.3 ? [{ toolUse: { toolUseId: 't', name: 'x', input: { usage: { inputTokens: 97 } } } }] : [])] } };
          doc.stopReason = 'end_turn';
        }
      : () => {
          doc.id = `msg_${i}`;
          doc.type = 'message';
          doc.content = [{ type: 'text', text }];
          if (rand() < 0.2) doc.message = { usage: pick(ANTHROPIC_USAGE) };
          if (rand() < 0.2) {
            doc.inputTextTokenCount = 4;
            doc.results = [{ tokenCount: 6 }];
          }
        };
    const usage = () => {
      if (rand() < 0.9) doc.usage = pick(converse ? CONVERSE_USAGE : ANTHROPIC_USAGE);
    };
    if (rand() < 0.2) {
      usage();
      head();
    } else {
      head();
      usage();
    }
    for (let k = Math.floor(rand() * 3); k > 0; k--) {
      const [key, value] = pick(TAIL);
      doc[key] = value;
    }
    const body = rand() < 0.1 ? JSON.stringify(doc, null, 1) : JSON.stringify(doc);
    const got = meterRead(body, converse);
    const want = expected(body, converse);
    if (JSON.stringify(got) !== JSON.stringify(want)) t.fail(`${JSON.stringify(got)} for ${JSON.stringify(want)} in ${body}`);
    else n++;
  }
  t.equal(n, 3000, 'every answer read as JSON.parse reads it');
});
