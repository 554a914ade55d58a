/**
 * The shallow JSON readers answer only when they are sure, and then exactly as
 * `JSON.parse` would: checked on hand-picked traps and on a bounded random corpus of
 * documents that hide `usage` keys and look-alike text in nested values and strings.
 */
import t from 'tap';
import * as shallow from '../../core/stream/json-shallow.js';
import { AnthropicStreamMeter, anthropicMeter } from '../../providers/anthropic/usage.js';
import { mulberry32 } from '../helpers/prng.js';

// The readers take an answer's bytes; the cases are written as text and encoded as UTF-8.
const lastMemberValue = (text: string, key: string) => shallow.lastMemberValue(Buffer.from(text), key);
const leadingStrings = (text: string, keys: readonly string[]) => shallow.leadingStrings(Buffer.from(text), keys);
const lastMemberNumbers = (text: string, key: string, names: readonly string[]) => shallow.lastMemberNumbers(Buffer.from(text), key, names);

t.test('the member is read only as the top-level object\'s last, or before members without escapes only', async (t) => {
  t.same(lastMemberValue('{"a":1,"usage":{"input_tokens":3}}', 'usage'), { input_tokens: 3 });
  t.same(lastMemberValue('{"usage":{"x":[1,{"y":2}]}}\n', 'usage'), { x: [1, { y: 2 }] }, 'only member, trailing newline');
  t.same(lastMemberValue('{"usage":{"x":1},"after":2}', 'usage'), { x: 1 }, 'compact members follow');
  t.same(lastMemberValue('{"id":"c","usage":{"prompt_tokens":9,"prompt_tokens_details":{"cached_tokens":2}},"service_tier":"default","system_fingerprint":null}', 'usage'), { prompt_tokens: 9, prompt_tokens_details: { cached_tokens: 2 } }, 'OpenAI\'s ending');
  t.same(lastMemberValue('{"usage":null,"n":1}', 'usage'), null, 'null, then a member');
  t.same(lastMemberValue('{"usage":{"x":1}, "after":2}', 'usage'), { x: 1 }, 'a member after it, with a space');
  const pretty = '{\n  "candidates": [\n    {\n      "text": "é \\"usageMetadata\\": {}"\n    }\n  ],\n  "usageMetadata": {\n    "promptTokenCount": 8,\n    "promptTokensDetails": [\n      {\n        "modality": "TEXT",\n        "tokenCount": 8\n      }\n    ]\n  },\n  "modelVersion": "gemini-2.5-flash",\n  "responseId": "abc"\n}\n';
  t.same(lastMemberValue(pretty, 'usageMetadata'), JSON.parse(pretty).usageMetadata, 'pretty-printed, as Gemini writes an answer');
  t.equal(lastMemberValue(pretty, 'modelVersion'), 'gemini-2.5-flash', 'a string member, pretty-printed');
  for (const [text, why] of [
    ['{\n "a": {\n  "usage": {"x": 1},\n  "c": 2\n },\n "d": 3\n}', 'nested and pretty-printed, with members after it in both objects'],
    ['{"usage": {"x": 1},\n "after": "a\\"b"}', 'an escape in a pretty-printed member after it'],
    ['{"usage" : {"x": 1}, "after": 2}', 'a space before the colon: not looked for'],
    ['{"usage":{"x":1},"after":"a\\"b"}', 'an escape in a member after it'],
    ['{"a":{"b":1,"usage":{"x":1},"c":2},"d":3}', 'nested, with members after it in both objects'],
    ['{"usage":{"x":1},"after":2,}', 'a trailing comma after the members'],
    ['{"a":{"usage":{"x":1}}}', 'nested in an object'],
    ['{"a":[{"usage":{"x":1}}]}', 'nested in an array'],
    ['{"a":"say \\"usage\\":{}"}', 'inside a string'],
    ['{"a":"x\\",\\"usage\\":1"}', 'escaped look-alike'],
    ['{"a":1,"usage":{"x":1}', 'truncated'],
    ['[{"usage":1}]', 'not an object'],
  ] as const) {
    t.equal(lastMemberValue(text, 'usage'), undefined, why);
  }
  t.same(lastMemberValue('{"a":"é✓","usage":{"note":"ünï ✓"}}', 'usage'), { note: 'ünï ✓' }, 'text outside ASCII, before and in the value');
  // The key is looked for near the end first, then by Buffer's own search: both find it.
  const long = 'x'.repeat(5000);
  t.same(lastMemberValue(`{"usage":{"long":"${long}"}}`, 'usage'), { long }, 'a value longer than the near-end search');
  t.same(lastMemberValue(`{"a":"${long}","usage":{"n":1}}`, 'usage'), { n: 1 }, 'a long answer');
  t.equal(lastMemberValue(`{"a":{"usage":{"long":"${long}"}}}`, 'usage'), undefined, 'a long value nested');
  t.equal(lastMemberValue(`{"usage":1,"a":"${long}"}`, 'usage'), 1, 'far from the end, a long member after it');
  t.equal(lastMemberValue(`{"usage":1,"a":{"usage":2,"b":"${long}"}}`, 'usage'), undefined, 'the last one nested, far from the end');
});

t.test('leading string members stop at the first other value and refuse escapes', async (t) => {
  const keys = ['type', 'model'];
  t.same(leadingStrings('{"id":"m1","type":"message","content":[{"model":"no"}],"model":"late"}', keys), ['message', undefined]);
  t.same(leadingStrings('{"model":"2","type":"1"}', keys), ['1', '2']);
  t.same(leadingStrings('{}', keys), [undefined, undefined]);
  t.same(leadingStrings('{"id":"a\\\\","type":"t"}', keys), undefined, 'a backslash before a quote: unsure where it ends');
  t.same(leadingStrings('{"id":"a\\n b","type":"t"}', keys), ['t', undefined], 'an escape inside an unwanted value is skipped');
  t.equal(leadingStrings('{"type":"x\\"y","model":"2"}', keys), undefined, 'escaped quote in a wanted value');
  t.equal(leadingStrings('{"typ\\u0065":"x","model":"2"}', keys), undefined, 'an escaped key could be a wanted one');
  t.equal(leadingStrings('{"a\\"":"x"}', keys), undefined, 'escaped quote in a key');
  t.equal(leadingStrings('{"type":"1","type":"2"}', keys), undefined, 'duplicate key: the last would win');
  t.equal(leadingStrings('{ "type":"1"}', keys), undefined, 'not compact');
  t.equal(leadingStrings('{"type":"1', keys), undefined, 'truncated');
  t.same(leadingStrings('{"ïd":"é","model":"claude-ünï ✓","type":"m"}', keys), ['m', 'claude-ünï ✓'], 'text outside ASCII, decoded as UTF-8');
  t.same(leadingStrings('{"id":"c","object":"chat.completion","created":1741569952,"model":"gpt-4.1"}', ['model']), ['gpt-4.1'], 'a number passed over (OpenAI\'s created)');
  t.same(leadingStrings('{"created":-1.5e3,"n":0,"model":"m"}', ['model']), ['m'], 'numbers of any form');
  t.same(leadingStrings('{"n":1}', ['model']), [undefined], 'a number, then the end');
  t.same(leadingStrings('{"model":5,"type":"t"}', keys), [undefined, undefined], 'a wanted key holding a number ends the run');
  t.equal(leadingStrings('{"created":01,"model":"m"}', ['model']), undefined, 'a number JSON.parse refuses');
  t.equal(leadingStrings('{"model":"a","model":5}', ['model']), undefined, 'a wanted key again, holding a number');
  t.equal(leadingStrings('{"type":"a","type":[1]}', keys), undefined, 'a wanted key again, holding an array');
  t.equal(leadingStrings('{"created":1 ,"model":"m"}', ['model']), undefined, 'not compact after a number');
});

t.test('values decoded before are recalled only when the bytes spell them', async (t) => {
  const keys = ['model'];
  // Twelve models in turn, twice: more than the readers recall, each read right every time.
  for (let round = 0; round < 2; round++) {
    for (let m = 0; m < 12; m++) t.same(leadingStrings(`{"model":"claude-${m}"}`, keys), [`claude-${m}`]);
  }
  t.same(leadingStrings('{"model":"ab"}', keys), ['ab']);
  t.same(leadingStrings('{"model":"ac"}', keys), ['ac'], 'same length, another byte');
  t.same(leadingStrings('{"model":"é"}', keys), ['é'], 'two bytes of UTF-8, one character');
  t.same(leadingStrings('{"model":"é"}', keys), ['é'], 'again: never kept, decoded again');
  t.same(shallow.leadingStrings(Buffer.from([...Buffer.from('{"model":"'), 0xe9, ...Buffer.from('"}')]), keys), ['\ufffd'], 'a lone byte past ASCII decodes to the replacement character, as JSON.parse of the decoded text would read it');
  t.same(leadingStrings('{"model":"a"}', keys), ['a']);
  t.same(shallow.leadingStrings(Buffer.from([...Buffer.from('{"model":"'), 0xe1, ...Buffer.from('"}')]), keys), ['\ufffd'], 'a byte of a recalled letter plus 0x80 is not that letter');
});

const NAMES = ['input_tokens', 'output_tokens'];

t.test('the last member\'s plain counts are read in place, anything unsure is left to JSON.parse', async (t) => {
  const read = (text: string) => lastMemberNumbers(text, 'usage', NAMES);
  t.same(read('{"a":1,"usage":{"input_tokens":3,"output_tokens":0}}'), [3, 0]);
  t.same(
    read('{"id":"m","usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"x":[1,2.5,-3e2,true,null,"s"]},"output_tokens":7,"service_tier":"standard"}}'),
    [12, 7],
    'Anthropic\'s current shape: nested objects and strings beside the counts',
  );
  t.same(read('{"usage":{}}'), [undefined, undefined], 'empty');
  t.same(read('{"usage":{"input_tokens":null,"output_tokens":"5"}}'), [undefined, undefined], 'not numbers: not counts');
  t.same(read('{"usage":{"input_tokens":-4,"output_tokens":-0}}'), [-4, -0], 'negative and negative zero, as JSON.parse gives them');
  t.same(read('{"usage":{"input_tokens":1,"input_tokens":null,"output_tokens":null,"output_tokens":2}}'), [undefined, 2], 'the last of duplicates wins');
  t.same(read('{"usage":{"input_tokens":3,"other":1.5e-3}}'), [3, undefined], 'any number form in an unwanted member');
  t.same(read('{"usage":{"input_tokens":3}}\n'), [3, undefined], 'trailing whitespace after the document');
  t.same(read('{"usage":{"input_tokens":3},"tier":"x","n":[1,{"k":null}]}'), [3, undefined], 'compact members after it');
  t.same(read('{"usage":{},"n":1}'), [undefined, undefined], 'empty, a member after it');
  t.same(read('{"usage":{"input_tokens": 1}}'), [1, undefined], 'a space after the colon');
  t.same(read('{"usage":{"input_tokens":1},"after":2 }'), [1, undefined], 'a member after it, a space before the end');
  t.same(read('{\n  "usage": {\n    "input_tokens": 4,\n    "x": [\n      1\n    ],\n    "output_tokens": 5\n  },\n  "n": 1\n}\n'), [4, 5], 'pretty-printed');
  t.same(read('{"usage": {\t}}'), [undefined, undefined], 'empty, whitespace inside');
  for (const [text, why] of [
    ['{"usage":{"input_tokens":1.5}}', 'a fraction in a wanted member'],
    ['{"usage":{"input_tokens":1e3}}', 'an exponent in a wanted member'],
    ['{"usage":{"input_tokens":1234567890123456}}', 'past 15 digits'],
    ['{"usage":{"input_tokens":01}}', 'a leading zero (JSON.parse refuses it)'],
    ['{"usage":{"input_\\u0074okens":1}}', 'an escaped key could be a wanted one'],
    ['{"usage":{"a":"x\\"y","input_tokens":1}}', 'an escape in a string'],
    ['{"usage":{"a":"x\ty","input_tokens":1}}', 'a raw control character (JSON.parse refuses it)'],
    ['{"usage":{"a":[1,2},"input_tokens":1}}', 'unbalanced'],
    ['{"usage":{"a":tru,"input_tokens":1}}', 'a broken literal'],
    ['{"usage":{"input_tokens":1,}}', 'a trailing comma'],
    ['{"usage":{"a":1.}}', 'a fraction without digits'],
    ['{"usage":{"input_tokens":1}', 'truncated'],
    ['{"usage":[1]}', 'not an object'],
    ['{"a":{"usage":{"input_tokens":1},"after":2}}', 'nested, a member after it'],
    [`{"usage":{"a":${'['.repeat(20)}${']'.repeat(20)}}}`, 'nested deeper than the reader goes'],
  ] as const) {
    t.equal(read(text), undefined, why);
  }
});

const HEAD_KEYS = ['usage', 'model', 'type', 'k1', 'k2'];
const TRICKY = ['usage', 'model', 'type', '"usage":', '\\', '"', '}', '{"usage":1}', ',"usage":{}', 'message', 'é✓'];

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth > 3 || r < 0.3) return TRICKY[Math.floor(rand() * TRICKY.length)] + (rand() < 0.5 ? '' : String(Math.floor(rand() * 100)));
  if (r < 0.45) return Math.floor(rand() * 1000);
  if (r < 0.5) return null;
  if (r < 0.7) return Array.from({ length: Math.floor(rand() * 3) }, () => randomValue(rand, depth + 1));
  return randomObject(rand, depth + 1);
}

function randomObject(rand: () => number, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(rand() * 5);
  for (let i = 0; i < n; i++) o[rand() < 0.4 ? TRICKY[Math.floor(rand() * 4)] : `k${Math.floor(rand() * 9)}`] = randomValue(rand, depth);
  return o;
}

t.test('on a random corpus, every answer equals JSON.parse\'s', async (t) => {
  const rand = mulberry32(12);
  let tailAnswers = 0;
  let midAnswers = 0;
  let prettyAnswers = 0;
  let headAnswers = 0;
  let headValues = 0;
  for (let i = 0; i < 4000; i++) {
    const doc = randomObject(rand, 0);
    if (rand() < 0.5) doc.usage = randomValue(rand, 1);
    // A third pretty-printed, with each kind of JSON whitespace.
    const pretty = rand() < 0.3;
    const text = pretty ? JSON.stringify(doc, null, [1, 2, '\t', ' \r'][Math.floor(rand() * 4)]) : JSON.stringify(doc);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const tail = lastMemberValue(text, 'usage');
    if (tail !== undefined) {
      tailAnswers++;
      if (Object.keys(parsed).at(-1) !== 'usage') midAnswers++;
      if (pretty) prettyAnswers++;
      if (!Object.hasOwn(parsed, 'usage')) t.fail(`answered for a usage the top level does not have: ${text}`);
      else if (JSON.stringify(tail) !== JSON.stringify(parsed.usage)) t.fail(`wrong usage for ${text}`);
    }
    const head = leadingStrings(text, HEAD_KEYS);
    if (head !== undefined) {
      headAnswers++;
      for (const [i, k] of HEAD_KEYS.entries()) if (head[i] !== undefined && parsed[k] !== head[i]) t.fail(`wrong ${k} for ${text}`);
      if (head.some((v) => v !== undefined)) headValues++;
    }
  }
  t.ok(tailAnswers > 500, `the tail reader answered ${tailAnswers} times`);
  t.ok(midAnswers > 50, `${midAnswers} of them with members after the usage`);
  t.ok(prettyAnswers > 300, `${prettyAnswers} of them pretty-printed`);
  t.ok(headAnswers > 500, `the head reader answered ${headAnswers} times`);
  t.ok(headValues > 150, `with a value ${headValues} times`);
});

const COUNT_FORMS = ['0', '-0', '7', '-12', '250', '999999999999999'];
const NUMBER_FORMS = ['1234567890123456', '1.5', '2e3', '-1E-2', '01', '1.', '-', '+1', '.5'];
const VALUE_FORMS = ['null', 'true', 'false', 'tru', '"s"', '"a\\"b"', '"\t"', '[]', '{}', '[1,{"b":[2]}]', '{"x":{"y":null}}', '[1,]', '{"k"}'];

t.test('on a random corpus of usage objects, every count read equals JSON.parse\'s', async (t) => {
  const rand = mulberry32(77);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  // Mostly compact, as Anthropic writes; sometimes whitespace between the tokens.
  const space = (): string => (rand() < 0.8 ? '' : pick([' ', '\n  ', '\t', '\r\n']));
  let answered = 0;
  let answeredAfter = 0;
  let counted = 0;
  for (let i = 0; i < 3000; i++) {
    const members: string[] = [];
    for (let n = Math.floor(rand() * 6); n > 0; n--) {
      const name = rand() < 0.5 ? pick(NAMES) : pick(['cache_creation', 'service_tier', 'k']);
      const r = rand();
      members.push(`"${name}":${space()}${r < 0.6 ? pick(COUNT_FORMS) : r < 0.7 ? pick(NUMBER_FORMS) : pick(VALUE_FORMS)}`);
    }
    const after = rand() < 0.3 ? pick([',"service_tier":"default"', ',"n":1,"x":[true,{"y":null}]', ',"s":"a\\"b"', ' ,"n":1']) : '';
    let text = `{"id":"m",${space()}"usage":${space()}{${space()}${members.join(`,${space()}`)}${space()}}${after}${space()}}`;
    if (rand() < 0.2) {
      const at = Math.floor(rand() * text.length);
      text = rand() < 0.5 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + pick([' ', ',', '"', '}', ':', '1']) + text.slice(at);
    }
    const got = lastMemberNumbers(text, 'usage', NAMES);
    if (got === undefined) continue;
    answered++;
    const parsed = lastMemberValue(text, 'usage') as Record<string, unknown> | undefined;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      t.fail(`answered where JSON.parse gives no object: ${text}`);
      continue;
    }
    let whole: { usage?: unknown } | undefined;
    try {
      whole = JSON.parse(text) as { usage?: unknown };
    } catch {
      whole = undefined; // a broken document: the slice's own parse is the reference
    }
    if (whole && JSON.stringify(whole.usage) !== JSON.stringify(parsed)) t.fail(`the slice and the document disagree: ${text}`);
    if (after) answeredAfter++;
    for (const [k, name] of NAMES.entries()) {
      const want = typeof parsed[name] === 'number' ? parsed[name] : undefined;
      if (!Object.is(got[k], want)) t.fail(`${name}: ${String(got[k])} for ${String(want)} in ${text}`);
      if (got[k] !== undefined) counted++;
    }
  }
  t.ok(answered > 1000, `answered ${answered} of 3000`);
  t.ok(answeredAfter > 200, `${answeredAfter} of them with members after the usage`);
  t.ok(counted > 500, `with ${counted} counts`);
});

function meterRead(body: string): { usage: unknown; model: string | undefined } {
  const m = anthropicMeter('application/json');
  if (!m || m instanceof AnthropicStreamMeter) throw new Error('expected the JSON meter');
  const bytes = Buffer.from(body);
  // Split mid-body: the meter sees chunks as they pass.
  m.write(bytes.subarray(0, 7));
  m.write(bytes.subarray(7));
  m.end();
  return { usage: { ...m.usage }, model: m.model };
}

t.test('the Anthropic JSON meter reads the same with or without the shallow path', async (t) => {
  const usage = { input_tokens: 11, output_tokens: 7, cache_creation_input_tokens: 2, cache_read_input_tokens: 3 };
  const message = { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'tool_use', input: { usage: { input_tokens: 999 }, model: 'decoy' } }], stop_reason: 'end_turn', usage };
  const expected = { usage: { inputTokens: 11, outputTokens: 7, cacheCreationTokens: 2, cacheReadTokens: 3 }, model: 'claude-x' };
  t.match(meterRead(JSON.stringify(message)), expected, 'compact (the shallow path)');
  t.match(meterRead(JSON.stringify(message, null, 2)), expected, 'pretty-printed (parsed whole)');
  const { usage: _u, ...rest } = message;
  t.match(meterRead(JSON.stringify({ ...rest, usage, service_tier: 'standard' })), expected, 'usage not last (parsed whole)');
  t.match(meterRead(JSON.stringify({ id: 'msg_1', type: 'message', model: 'claude-\\"x', usage })), { model: 'claude-\\"x' }, 'escaped model (parsed whole)');
  // The content between head and tail is passed on unparsed: a body JSON.parse would refuse
  // for its middle alone still has its head and usage read (this is how the path shows).
  t.match(meterRead('{"id":"m","type":"message","model":"claude-x","content":[oops],"usage":{"input_tokens":11}}'), { usage: { inputTokens: 11 }, model: 'claude-x' }, 'middle unparsed');
  const notMessage = meterRead(JSON.stringify({ type: 'other', model: 'm', usage }));
  t.equal(notMessage.model, undefined, 'a non-message body names no model');
  t.match(notMessage.usage, { inputTokens: 11 });
});
