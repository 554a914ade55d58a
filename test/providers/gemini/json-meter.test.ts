/**
 * The Gemini JSON meter reads a generateContent answer's usage and model from its bytes
 * when it ends as Gemini ends one (`usageMetadata`, `modelVersion`, `responseId`, usually
 * pretty-printed), and otherwise parses it whole: either way it says what the chunk reader
 * says of the answer parsed with `JSON.parse`.
 */
import t from 'tap';
import { GeminiChunkReader, geminiMeter } from '../../../providers/gemini/usage.js';
import { mulberry32 } from '../../helpers/prng.js';

interface Read {
  usage: unknown;
  model: string | undefined;
  streamError: string | undefined;
}

function meterRead(body: string): Read {
  const m = geminiMeter('application/json; charset=UTF-8')!;
  const bytes = Buffer.from(body);
  // Split mid-body: the meter sees chunks as they pass.
  m.write(bytes.subarray(0, 5));
  m.write(bytes.subarray(5));
  m.end();
  return { usage: { ...m.usage }, model: m.model, streamError: m.streamError };
}

/** What the meter must say: the answer parsed whole, each chunk given to the reader. */
function expected(body: string): Read {
  const reader = new GeminiChunkReader();
  const parsed = JSON.parse(body) as unknown;
  for (const chunk of Array.isArray(parsed) ? parsed : [parsed]) reader.read(chunk as Parameters<GeminiChunkReader['read']>[0]);
  return { usage: { ...reader.usage }, model: reader.model, streamError: reader.streamError };
}

const answer = {
  candidates: [{ content: { parts: [{ text: 'Un café — "usageMetadata": {"promptTokenCount": 999}' }, { functionCall: { name: 'f', args: { modelVersion: 'decoy', usageMetadata: { promptTokenCount: 998 } } } }], role: 'model' }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 1200, candidatesTokenCount: 50, totalTokenCount: 1280, cachedContentTokenCount: 1000, thoughtsTokenCount: 30, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 1200 }] },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'mJ1ZaKqBFcWF7M8PzJvXqAQ',
};

t.test("a generateContent answer is read as JSON.parse reads it, from its bytes or whole", async (t) => {
  const pretty = JSON.stringify(answer, null, 2);
  t.same(meterRead(pretty), { usage: { inputTokens: 200, outputTokens: 80, cacheCreationTokens: 0, cacheReadTokens: 1000 }, model: 'gemini-2.5-flash', streamError: undefined }, "Gemini's shape, pretty-printed");
  for (const [body, why] of [
    [JSON.stringify(answer), 'compact'],
    [JSON.stringify({ ...answer, usageMetadata: null }), 'usageMetadata null'],
    [JSON.stringify({ ...answer, modelVersion: 7 }), 'a model version that is no string (parsed whole)'],
    [JSON.stringify({ candidates: answer.candidates, usageMetadata: answer.usageMetadata }), 'no model version (parsed whole)'],
    [JSON.stringify({ error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } }, null, 2), 'an error answer (parsed whole)'],
    [JSON.stringify({ error: { status: 'X', message: 'y' }, ...answer }, null, 2), 'an error member beside the usage (parsed whole)'],
    [JSON.stringify([answer, answer], null, 2), 'the JSON-array stream (parsed whole)'],
    [JSON.stringify({ modelVersion: 'late', responseId: 'r', candidates: answer.candidates, usageMetadata: answer.usageMetadata, extra: { modelVersion: 'nested' } }, null, 2), 'the last modelVersion nested (parsed whole)'],
  ] as const) {
    t.same(meterRead(body), expected(body), why);
  }
});

t.test("the bytes' path is what reads Gemini's shape", async (t) => {
  // The candidates are passed on unparsed: a body JSON.parse would refuse for its middle
  // alone still has its usage and model read, which only the path that reads the bytes can do.
  const body = '{\n  "candidates": [oops],\n  "usageMetadata": {\n    "promptTokenCount": 3,\n    "candidatesTokenCount": 4\n  },\n  "modelVersion": "gemini-x",\n  "responseId": "r"\n}\n';
  t.same(meterRead(body), { usage: { inputTokens: 3, outputTokens: 4, cacheCreationTokens: 0, cacheReadTokens: 0 }, model: 'gemini-x', streamError: undefined });
});

t.test('on a random corpus of answers, the meter says what JSON.parse says', async (t) => {
  const rand = mulberry32(23);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const TEXT = ['plain', 'é✓ ünï', 'say "usageMetadata": {"promptTokenCount": 1}', '{"modelVersion": "decoy"}', 'error', '"error"', '\\', ''];
  const USAGE: unknown[] = [null, 0, 5, 'x', [], {}, { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 }, { promptTokenCount: 40, cachedContentTokenCount: 30, candidatesTokenCount: 9, thoughtsTokenCount: 4, toolUsePromptTokenCount: 2, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 40 }] }, { promptTokenCount: 1.5, candidatesTokenCount: -2 }];
  const MODEL: unknown[] = ['gemini-2.5-flash', 'gemini-ünï', 'm"q', '', 3, null];
  const EXTRA: Array<[string, unknown]> = [['responseId', 'abc'], ['modelStatus', { state: 'ok' }], ['usageMetadata', { promptTokenCount: 99 }], ['modelVersion', 'again'], ['trailer', { modelVersion: 'nested', usageMetadata: { promptTokenCount: 98 } }], ['error', { status: 'E', message: 'm' }], ['note', 'a "quoted" tail']];
  let shapes = 0;
  for (let i = 0; i < 3000; i++) {
    const doc: Record<string, unknown> = {};
    const content = { parts: [{ text: pick(TEXT) }, ...(rand() < 0.3 ? [{ functionCall: { name: 'f', args: { usageMetadata: { promptTokenCount: 97 }, modelVersion: 'decoy', error: 'x' } } }] : [])], role: 'model' };
    const candidates = [{ content, finishReason: 'STOP', index: 0 }];
    const tail = () => {
      if (rand() < 0.9) doc.usageMetadata = pick(USAGE);
      if (rand() < 0.9) doc.modelVersion = pick(MODEL);
      if (rand() < 0.8) doc.responseId = `r${i}`;
    };
    if (rand() < 0.15) {
      tail();
      doc.candidates = candidates;
    } else {
      doc.candidates = candidates;
      tail();
    }
    for (let k = rand() < 0.7 ? 0 : Math.floor(rand() * 3); k > 0; k--) {
      const [key, value] = pick(EXTRA);
      doc[key] = value;
    }
    const whole: unknown = rand() < 0.05 ? [doc] : doc;
    const body = rand() < 0.7 ? JSON.stringify(whole, null, 2) : JSON.stringify(whole);
    const got = meterRead(body);
    const want = expected(body);
    if (JSON.stringify(got) !== JSON.stringify(want)) t.fail(`${JSON.stringify(got)} for ${JSON.stringify(want)} in ${body}`);
    else shapes++;
  }
  t.equal(shapes, 3000, 'every answer read as JSON.parse reads it');
});
