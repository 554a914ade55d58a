/**
 * The OpenAI JSON meter reads a chat completion's model and usage from its bytes when the
 * answer has OpenAI's shape (usage near the end, model among the opening members), and
 * otherwise parses it whole: either way it counts what `JSON.parse` of the answer says.
 */
import t from 'tap';
import { emptyUsage } from '../../../core/index.js';
import { applyOpenAIUsage, openaiJsonMeter } from '../../../providers/openai/usage.js';
import { mulberry32 } from '../../helpers/prng.js';

function meterRead(body: string): { usage: unknown; model: string | undefined } {
  const m = openaiJsonMeter();
  const bytes = Buffer.from(body);
  // Split mid-body: the meter sees chunks as they pass.
  m.write(bytes.subarray(0, 9));
  m.write(bytes.subarray(9));
  m.end();
  return { usage: { ...m.usage }, model: m.model };
}

/** What the meter must say: the whole answer parsed. */
function expected(body: string): { usage: unknown; model: string | undefined } {
  const parsed = JSON.parse(body) as { model?: string; usage?: Parameters<typeof applyOpenAIUsage>[1] };
  const usage = emptyUsage();
  applyOpenAIUsage(usage, parsed.usage);
  return { usage: { ...usage }, model: parsed.model };
}

const completion = {
  id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
  object: 'chat.completion',
  created: 1741570283,
  model: 'gpt-4o-2024-08-06',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Un café, s\'il vous plaît — "usage": {"prompt_tokens": 999}', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1117, completion_tokens: 46, total_tokens: 1163, prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
  service_tier: 'default',
  system_fingerprint: 'fp_fc9f1d7035',
};

t.test('a chat completion is read as JSON.parse reads it, shallow or whole', async (t) => {
  const compact = JSON.stringify(completion);
  t.same(meterRead(compact), { usage: { inputTokens: 93, outputTokens: 46, cacheCreationTokens: 0, cacheReadTokens: 1024 }, model: 'gpt-4o-2024-08-06' }, 'OpenAI\'s shape');
  t.same(meterRead(compact), expected(compact));
  for (const [body, why] of [
    [JSON.stringify(completion, null, 2), 'pretty-printed (parsed whole)'],
    [JSON.stringify({ ...completion, usage: null }), 'usage null'],
    [JSON.stringify({ id: 'c', choices: [], model: 'late', usage: { prompt_tokens: 3, completion_tokens: 4 } }), 'model after the choices (parsed whole)'],
    [JSON.stringify({ id: 'c', model: 'm', usage: { prompt_tokens: 3 }, choices: [{ message: { content: 'a "quoted" word' } }] }), 'usage before the choices (parsed whole)'],
    [JSON.stringify({ model: 'llama3.2', created_at: '2026-01-01', message: { content: 'hi' }, done: true, prompt_eval_count: 26 }), 'no usage at all (parsed whole)'],
    [JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 5, completion_tokens: 1 }, usage2: 1 }), 'a look-alike member after it'],
  ] as const) {
    t.same(meterRead(body), expected(body), why);
  }
});

t.test('the shallow path is what reads OpenAI\'s shape', async (t) => {
  // The choices are passed on unparsed: a body JSON.parse would refuse for its middle alone
  // still has its model and usage read, which only the shallow path can do.
  const body = '{"id":"c","object":"chat.completion","created":1,"model":"gpt-x","choices":[oops],"usage":{"prompt_tokens":7,"completion_tokens":2},"service_tier":"default"}';
  t.match(meterRead(body), { usage: { inputTokens: 7, outputTokens: 2 }, model: 'gpt-x' });
});

t.test('on a random corpus of completions, the meter says what JSON.parse says', async (t) => {
  const rand = mulberry32(5);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const TEXT = ['plain', 'é✓ ünï', 'say "usage":{"prompt_tokens":1}', '{"model":"decoy"}', '\\', ''];
  const USAGE = [null, 5, 'x', [], {}, { prompt_tokens: 12, completion_tokens: 3 }, { prompt_tokens: 40, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 30 } }, { prompt_tokens: 1.5, completion_tokens: -2 }];
  const TAIL: Array<[string, unknown]> = [['service_tier', 'default'], ['system_fingerprint', null], ['system_fingerprint', 'fp_"x"'], ['n', 2], ['usage', { prompt_tokens: 99 }], ['extra', { usage: { prompt_tokens: 98 } }]];
  for (let i = 0; i < 2000; i++) {
    const doc: Record<string, unknown> = {};
    if (rand() < 0.8) doc.id = `chatcmpl-${i}`;
    if (rand() < 0.5) doc.object = 'chat.completion';
    if (rand() < 0.5) doc.created = Math.floor(rand() * 2e9);
    if (rand() < 0.5) doc.model = pick(['gpt-4o', 'gpt-ünï', 'm"q', '']);
    doc.choices = [{ index: 0, message: { role: 'assistant', content: pick(TEXT) }, finish_reason: 'stop' }];
    if (rand() < 0.2 && doc.model === undefined) doc.model = 'after-choices';
    if (rand() < 0.9) doc.usage = pick(USAGE);
    for (let n = Math.floor(rand() * 3); n > 0; n--) {
      const [k, v] = pick(TAIL);
      doc[k] = v;
    }
    const body = rand() < 0.1 ? JSON.stringify(doc, null, 1) : JSON.stringify(doc);
    const got = meterRead(body);
    const want = expected(body);
    if (JSON.stringify(got) !== JSON.stringify(want)) t.fail(`${JSON.stringify(got)} for ${JSON.stringify(want)} in ${body}`);
  }
  t.pass('2,000 completions');
});
