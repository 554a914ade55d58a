/**
 * The validator's clamp (`withCap`): the cap lowered where each API keeps it, in a copy that
 * shares everything else with the body it was made from — the body itself unchanged, the
 * prompt's strings the very ones read (so `strings.serialize` still finds their literals).
 */
import t from 'tap';
import { capOver, withCap } from '../../../filters/validator/caps.js';

const prompt = 'a long prompt '.repeat(100);

/** The value at `path` in `body`. */
const at = (body: Record<string, unknown>, path: readonly string[]): unknown => path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], body);

t.test("each API's cap lowered in a copy; the body unchanged; the rest shared", async (t) => {
  const cases: Array<[string, Record<string, unknown>, readonly string[]]> = [
    ['Anthropic / OpenAI max_tokens', { model: 'm', max_tokens: 4000, messages: [{ role: 'user', content: prompt }] }, ['max_tokens']],
    ['OpenAI max_completion_tokens', { model: 'm', max_completion_tokens: 4000, messages: [{ role: 'user', content: prompt }] }, ['max_completion_tokens']],
    ['OpenAI Responses max_output_tokens', { model: 'm', max_output_tokens: 4000, input: prompt }, ['max_output_tokens']],
    ['Gemini generationConfig', { contents: [{ parts: [{ text: prompt }] }], generationConfig: { temperature: 0.5, maxOutputTokens: 4000 } }, ['generationConfig', 'maxOutputTokens']],
    ['Converse inferenceConfig', { messages: [{ role: 'user', content: [{ text: prompt }] }], inferenceConfig: { maxTokens: 4000 } }, ['inferenceConfig', 'maxTokens']],
    ['Titan textGenerationConfig', { inputText: prompt, textGenerationConfig: { maxTokenCount: 4000 } }, ['textGenerationConfig', 'maxTokenCount']],
    ['Bedrock Claude text completions', { prompt, max_tokens_to_sample: 4000 }, ['max_tokens_to_sample']],
    ['Bedrock Llama', { prompt, max_gen_len: 4000 }, ['max_gen_len']],
    ["the gateway's /invoke envelope", { model_id: 'm', body: { anthropic_version: 'v', max_tokens: 4000, messages: [{ role: 'user', content: prompt }] } }, ['body', 'max_tokens']],
  ];
  for (const [name, body, path] of cases) {
    const before = structuredClone(body);
    const capped = withCap(body, 50);
    if (!capped) {
      t.fail(`${name}: a known place`);
      continue;
    }
    t.equal(at(capped, path), 50, `${name}: lowered`);
    t.strictSame(body, before, `${name}: the body it came from unchanged`);
    const restored = structuredClone(capped);
    (at(restored, path.slice(0, -1)) as Record<string, unknown>)[path[path.length - 1]] = 4000;
    t.strictSame(restored, body, `${name}: nothing else changed`);
    for (const key of Object.keys(body)) {
      if (key === path[0]) {
        if (path.length > 1) t.not(capped[key], body[key], `${name}: ${key} copied`);
      } else t.equal(capped[key], body[key], `${name}: ${key} shared, not copied`);
    }
  }
});

t.test('a cap elsewhere, or within the maximum: undefined, nothing to lower', async (t) => {
  t.equal(withCap({ model: 'm', messages: [] }, 50), undefined);
  t.equal(withCap({ max_tokens: null }, 50), undefined, "null is the API's default, not a cap");
  t.equal(withCap({ max_tokens: 40 }, 50), undefined, 'a cap already within the maximum is nothing to lower');
  t.equal(withCap({ body: { body: { max_tokens: 4000 } } }, 50), undefined, 'an envelope is looked into one level deep only');
  t.equal(withCap({ body: [{ max_tokens: 4000 }] }, 50), undefined);
  t.equal(withCap({ generationConfig: [4000] }, 50), undefined);
});

t.test('keys JSON may hold, such as __proto__, are copied as data', async (t) => {
  const body = JSON.parse(`{"__proto__":{"x":1},"max_tokens":4000,"messages":[{"role":"user","content":"${prompt}"}]}`) as Record<string, unknown>;
  const capped = withCap(body, 50)!;
  t.equal(Object.getPrototypeOf(capped), Object.prototype, 'the copy\'s prototype untouched');
  t.same(Object.getOwnPropertyDescriptor(capped, '__proto__')?.value, { x: 1 }, 'an own __proto__ member kept');
  t.equal(JSON.parse(JSON.stringify(capped)).max_tokens, 50);
  t.equal((capped.messages as Array<{ content: string }>)[0].content, prompt);
});

t.test('every cap above the maximum is lowered, not only the first found', async (t) => {
  const body = { model: 'm', max_tokens: 4000, max_completion_tokens: 3000, messages: [] };
  t.same(withCap(body, 50), { model: 'm', max_tokens: 50, max_completion_tokens: 50, messages: [] });
  t.same(withCap({ max_tokens: 20, max_completion_tokens: 3000 }, 50), { max_tokens: 20, max_completion_tokens: 50 }, 'one within the maximum is kept');
  const top = { max_tokens: 4000, body: { max_tokens: 4000 } };
  t.same(withCap(top, 50), { max_tokens: 50, body: { max_tokens: 50 } }, "an envelope's model body is lowered beside a top-level cap, not left as Bedrock reads it");
  t.same(top, { max_tokens: 4000, body: { max_tokens: 4000 } }, 'the body it came from unchanged');
});

t.test('a cap that is no token count is over the maximum: lowered', async (t) => {
  for (const value of ['4000', 2e9, 1e300, -5, true, { n: 1 }, [1]]) {
    t.same(withCap({ max_tokens: value, max_completion_tokens: 10 }, 50), { max_tokens: 50, max_completion_tokens: 10 }, JSON.stringify(value));
  }
});

t.test('capOver: the largest cap over the maximum, wherever the body keeps it', async (t) => {
  t.equal(capOver({ max_tokens: 50, max_completion_tokens: 10 }, 50), undefined, 'every cap within');
  t.equal(capOver({ max_tokens: null, generationConfig: { maxOutputTokens: null } }, 50), undefined, 'null is no cap');
  t.equal(capOver('text', 50), undefined, 'not an object: the schema check says so, not this');
  t.same(capOver({ max_completion_tokens: 10, max_tokens: 99_999 }, 4096), { field: 'max_tokens', value: 99_999 }, 'the one inspect did not read');
  t.same(capOver({ max_tokens: 5000, max_completion_tokens: 6000 }, 4096), { field: 'max_completion_tokens', value: 6000 }, 'the largest of two over');
  t.same(capOver({ generationConfig: { maxOutputTokens: 9000 } }, 4096), { field: 'generationConfig.maxOutputTokens', value: 9000 });
  t.same(capOver({ model_id: 'm', max_tokens: 10, body: { max_tokens: 9000 } }, 4096), { field: 'body.max_tokens', value: 9000 }, "an /invoke envelope's model body");
  t.same(capOver({ max_tokens: 2e9 }, 4096), { field: 'max_tokens', value: 2e9 }, 'above core\'s MAX_TOKEN_COUNT: still over');
  t.same(capOver({ max_tokens: 1e300 }, 4096), { field: 'max_tokens', value: 1e300 });
  t.same(capOver({ max_tokens: -1 }, 4096), { field: 'max_tokens', value: -1 }, 'a negative is no token count');
  t.same(capOver({ max_tokens: '99999' }, 4096), { field: 'max_tokens', value: '99999' }, 'a string may be read as a number upstream');
  t.same(capOver({ max_tokens: '1', max_completion_tokens: 9000 }, 4096), { field: 'max_completion_tokens', value: 9000 }, 'a number over is named before a value of another type');
});
