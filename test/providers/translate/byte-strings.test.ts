/**
 * The unified endpoint may hand a translator the request's shape — strings as their UTF-8
 * bytes, one character per byte — so a prompt outside ASCII is never decoded. That is only
 * sound if it changes nothing the provider receives: for every request, translating the
 * shape and encoding as `BYTE_STRINGS` says must give the very bytes that translating the
 * exact tree and encoding as UTF-8 gives, and every refusal must read the same.
 */
import t from 'tap';
import { GatewayError } from '../../../core/errors.js';
import type { ChatRequest } from '../../../core/types.js';
import { BYTE_STRINGS, exactJson, shapeJson, TEXT_STRINGS, type BodyStrings } from '../../../core/json-body.js';
import { openAIToAnthropicRequest } from '../../../providers/translate/openai-anthropic/index.js';
import { prepareConverseChat } from '../../../providers/translate/openai-converse/index.js';
import { openAIToGeminiRequest } from '../../../providers/translate/openai-gemini/index.js';
import type { OpenAIChatRequest } from '../../../providers/translate/openai-anthropic/openai-types.js';
import { withIncludeUsage } from '../../../providers/openai/rewrite.js';
import { contextWithBody } from '../../helpers/context.js';
import { escapeSome, random, randomText, randomValue } from '../../helpers/random-json.js';

/** Whether core hands an opted-in provider this body's shape (`ctx.rewritableBody()`), not its text. */
function shapeIsVerbatim(body: Buffer): boolean {
  return contextWithBody(body).rewritableBody().strings.form === 'bytes';
}

/** A translator: the request in, the bytes it would send (and, for Converse, its URL path) out. */
type Translate = (request: OpenAIChatRequest, strings: BodyStrings) => Buffer;

const toAnthropic: Translate = (request, strings) => strings.encode(JSON.stringify(openAIToAnthropicRequest(request, { defaultMaxTokens: 1024, strings })));
const toGemini: Translate = (request, strings) => strings.encode(JSON.stringify(openAIToGeminiRequest(request, strings)));
const toConverse: Translate = (request, strings) => {
  const plan = prepareConverseChat(request as unknown as ChatRequest, { strings, id: 'chatcmpl-x', created: 1 });
  return Buffer.concat([Buffer.from(`${plan.path}\n`), plan.body]);
};
const TRANSLATORS: ReadonlyArray<[string, Translate]> = [
  ['Anthropic', toAnthropic],
  ['Gemini', toGemini],
  ['Bedrock Converse', toConverse],
];

/** What a provider would send, or the refusal it would answer with. */
function sent(body: Buffer, strings: BodyStrings, translate: Translate): { bytes?: Buffer; error?: { code: string; message: string; param: unknown } } {
  const request = (strings.form === 'bytes' ? shapeJson(body) : exactJson(body)) as OpenAIChatRequest;
  try {
    return { bytes: translate(request, strings) };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { error: { code: err.code, message: err.message, param: err.param } };
  }
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)];
}

/** Text with characters of every UTF-8 length, and sometimes what trips a byte-wise reading. */
function text(next: () => number): string {
  const tricky = ['\u00a0', '\u00a0\u00a0', 'À', 'ÉCOLE', '\u2028', ' ', ''];
  return next() < 0.15 ? pick(next, tricky) : randomText(next, Math.floor(next() * 16));
}

function toolArguments(next: () => number): unknown {
  const r = next();
  if (r < 0.4) return JSON.stringify({ path: text(next), n: 1, deep: randomValue(next, 2) });
  // Escaped inside the string as Python writes it: nested `\u` escapes of characters outside ASCII.
  if (r < 0.55) return escapeSome(JSON.stringify({ q: text(next) }), next);
  if (r < 0.75) return pick(next, ['', '  ', '\u00a0', ' \u00a0 ', '\u2028']);
  if (r < 0.8) return pick(next, ['é{', '{"a":é}', '[1]', 'null', '"s"', '{"k":"\\ud83d"}', 7]);
  return '{}';
}

function contentParts(next: () => number, images: boolean): unknown[] {
  return Array.from({ length: 1 + Math.floor(next() * 3) }, () => {
    const r = next();
    if (r < 0.6 || (!images && r < 0.97)) return next() < 0.8 ? { type: 'text', text: text(next) } : { type: 'refusal', refusal: text(next) };
    if (r < 0.97) {
      const media = next() < 0.8 ? pick(next, ['image/png', 'IMAGE/JPEG']) : pick(next, ['image/wébp', 'ÎMAGE/PNG', 'text/plain']);
      const url = next() < 0.85 ? pick(next, [`data:${media};base64,iVBORw0=`, `https://example.test/${text(next)}.png`, 'https://bücher.example/ä.JPG', 'https://straße.example/a.png']) : pick(next, [`data:${media},raw`, 'ftp://x', 42, 'https://x/no-type']);
      return { type: 'image_url', image_url: { url } };
    }
    return { type: pick(next, ['audio', 'fîle', 'input_àudio']) };
  });
}

function message(next: () => number): Record<string, unknown> {
  const content = (images = false): unknown => (next() < 0.6 ? text(next) || 'x' : contentParts(next, images));
  const r = next();
  if (r < 0.15) return { role: pick(next, ['system', 'developer']), content: content() };
  if (r < 0.5) return { role: 'user', content: content(true), ...(next() < 0.2 ? { name: text(next) } : {}) };
  if (r < 0.75) {
    return {
      role: 'assistant',
      content: next() < 0.3 ? null : content(),
      ...(next() < 0.2 ? { refusal: text(next) } : {}),
      ...(next() < 0.6 ? { tool_calls: [{ id: pick(next, ['call_1', `call_${text(next)}`]), type: 'function', function: { name: text(next) || 'f', arguments: toolArguments(next) } }] } : {}),
    };
  }
  if (r < 0.95) {
    // Gemini sends a result that reads as a JSON object as the response itself.
    const result = next() < 0.3 ? escapeSome(JSON.stringify({ ok: text(next), n: [1, text(next)] }), next) : content();
    return { role: 'tool', tool_call_id: next() < 0.97 ? pick(next, ['call_1', `call_${text(next)}`]) : '', content: result };
  }
  if (r < 0.97) return { role: pick(next, ['rôle', 'function']), content: text(next) };
  return { role: 'user', content: [{ type: 'text', text: text(next) }] };
}

/** A chat request using most of what the translator reads, with text of every kind in it. */
function chatRequest(next: () => number): Record<string, unknown> {
  const request: Record<string, unknown> = {
    model: next() < 0.98 ? `claude-${text(next)}` : '',
    messages: Array.from({ length: 1 + Math.floor(next() * 5) }, () => message(next)),
  };
  if (next() < 0.3) request.stream = true;
  if (next() < 0.3) request.stop = next() < 0.5 ? text(next) : [text(next), text(next)];
  if (next() < 0.3) request.user = text(next);
  if (next() < 0.2) request.temperature = next() < 0.9 ? 0.5 : 1.5;
  if (next() < 0.4) {
    request.tools = [{ type: 'function', function: { name: text(next) || 't', description: text(next), parameters: { type: 'object', properties: { [text(next) || 'p']: { type: 'string', description: text(next) } } } } }];
    if (next() < 0.5) request.tool_choice = pick(next, ['auto', 'none', 'required', { type: 'function', function: { name: text(next) } }]);
  }
  if (next() < 0.2) request.response_format = { type: 'json_schema', json_schema: { name: text(next), description: text(next), schema: randomValue(next, 1) } };
  if (next() < 0.02) request.n = 2;
  return request;
}

for (const [target, translate] of TRANSLATORS) {
  t.test(`${target}: translating the shape sends the same bytes as translating the text, and refuses the same`, async (t) => {
    let compared = 0;
    let verbatimOutsideAscii = 0;
    let refusals = 0;
    for (let seed = 1; seed <= 1500; seed++) {
      const next = random(seed * 104729);
      const json = JSON.stringify(chatRequest(next));
      // Some bodies escape characters outside ASCII (as Python's json.dumps does); core then sends
      // the text form, so the shape is only compared where it would be used.
      const body = Buffer.from(next() < 0.25 ? escapeSome(json, next) : json);
      if (!shapeIsVerbatim(body)) continue;
      compared++;
      if (/[^\x00-\x7f]/.test(json)) verbatimOutsideAscii++;
      const exact = sent(body, TEXT_STRINGS, translate);
      const shape = sent(body, BYTE_STRINGS, translate);
      if (exact.error) refusals++;
      t.same(shape.error, exact.error, `seed ${seed}: the same refusal`);
      t.ok(exact.bytes === shape.bytes || (exact.bytes && shape.bytes?.equals(exact.bytes)), `seed ${seed}: the same bytes`);
      if (t.passing() === false) {
        t.comment(body.toString());
        break;
      }
    }
    t.ok(verbatimOutsideAscii > 800, `bodies outside ASCII compared (${verbatimOutsideAscii} of ${compared})`);
    t.ok(refusals > 100 && refusals < compared - 300, `both outcomes exercised (${refusals} refused)`);
  });
}

t.test('what a byte-wise reading would get wrong is read as text', async (t) => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['arguments of only U+00A0 read as {}', { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '\u00a0' } }] }],
    ['an upper-case media type outside ASCII', { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:ÎMAGE/PNG;base64,AAAA' } }] }],
    ['a role outside ASCII', { role: 'rôle', content: 'x' }],
  ];
  for (const [name, m] of cases) {
    const body = Buffer.from(JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: 'é' }, m] }));
    t.ok(shapeIsVerbatim(body), `${name}: the shape would be used`);
    const exact = sent(body, TEXT_STRINGS, toAnthropic);
    t.same(sent(body, BYTE_STRINGS, toAnthropic), exact, name);
  }
  // Escapes inside arguments make the body's own check send the text form (it counts an
  // escaped backslash before `u`); read as bytes they still come out the same.
  const escaped = Buffer.from(JSON.stringify({ model: 'claude-x', messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"q":"\\u00e9\\ud83d\\ude00 é"}' } }] }] }));
  t.notOk(shapeIsVerbatim(escaped), 'escapes inside arguments: the text form is used');
  t.same(sent(escaped, BYTE_STRINGS, toAnthropic), sent(escaped, TEXT_STRINGS, toAnthropic), 'and read as bytes would send the same');
  const nested = sent(Buffer.from(JSON.stringify({ model: 'claude-x', messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"q":"\\u00e9"}' } }] }] })), BYTE_STRINGS, toAnthropic);
  t.match(nested.bytes?.toString('utf8'), /"input":\{"q":"é"\}/, 'a nested escape arrives as the character, in UTF-8');
  const role = sent(Buffer.from(JSON.stringify({ model: 'claude-x', messages: [{ role: 'rôle', content: 'x' }] })), BYTE_STRINGS, toAnthropic);
  t.equal(role.error?.message, 'message role `rôle` is not supported', 'a refusal quotes the text as sent');
});

t.test('a body whose escapes spell characters outside ASCII is not read byte-wise', async (t) => {
  t.notOk(shapeIsVerbatim(Buffer.from(String.raw`{"model":"m","messages":[{"role":"user","content":"\ud83d"}]}`)), 'a lone surrogate, which has no bytes');
  t.notOk(shapeIsVerbatim(Buffer.from(String.raw`{"content":"caf\u00e9"}`)));
  t.ok(shapeIsVerbatim(Buffer.from(String.raw`{"content":"tab\u0009 café"}`)), 'escapes of ASCII are read exactly either way');
});

t.test('the OpenAI re-serialisation encodes as the strings are held', async (t) => {
  const json = JSON.stringify({ model: 'gpt-x', stream: true, stream_options: { note: 'café ✓' }, messages: [{ role: 'user', content: 'Ça → 😀' }] });
  const body = Buffer.from(json);
  const exact = withIncludeUsage(body, exactJson(body) as Record<string, unknown>);
  const shape = withIncludeUsage(body, shapeJson(body) as Record<string, unknown>, BYTE_STRINGS.serialize);
  t.ok(shape.equals(exact), 'the same bytes');
  t.same(JSON.parse(shape.toString('utf8')).stream_options, { note: 'café ✓', include_usage: true });
});

t.test('BYTE_STRINGS: text and of are inverse; parse reads nested JSON as the body is read', async (t) => {
  for (const s of ['plain', 'café', 'Ça → 😀', '\u00a0', '']) {
    t.equal(BYTE_STRINGS.text(BYTE_STRINGS.of(s)), s, JSON.stringify(s));
    t.equal(BYTE_STRINGS.of(s), Buffer.from(s).toString('latin1'));
  }
  t.same(BYTE_STRINGS.parse(BYTE_STRINGS.of('{"a":"é","b":"\\u00e9"}')), { a: BYTE_STRINGS.of('é'), b: BYTE_STRINGS.of('é') }, 'raw and escaped alike');
  t.throws(() => BYTE_STRINGS.parse('{'), SyntaxError, 'refused as JSON.parse refuses');
  t.throws(() => BYTE_STRINGS.parse(BYTE_STRINGS.of('plain text é')), SyntaxError);
});
