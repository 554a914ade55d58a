import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { loadSchema, resolveSchemaPath, shapeSafe } from '../../../filters/validator/schemas.js';
import { startGateway } from '../../helpers/gateway.js';
import { config, messages, post, SECRET } from '../fixtures.js';

const withAuth = (validator: string) => config(`  - name: auth
    config:
      key_secret: ${SECRET}
  - name: validator
    config:
${validator}`);

const err = (text: string): string => (JSON.parse(text) as { error: { message: string } }).error.message;

t.test('edges: size, JSON, schema, max_tokens, prompt length', async (t) => {
  const gw = await startGateway(t, withAuth(`      max_body_bytes: 3000
      max_tokens: 100
      max_prompt_chars: 500
      max_prompt_tokens: 100
      chars_per_token: 4
`));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const h = { 'x-workspace-id': 'ws-abc123' };
  t.equal((await post(url, h)).status, 200, 'a good request passes');
  t.equal((await post(url, h, messages({ max_tokens: 100 }))).status, 200, 'exactly at the maximum');

  const big = await post(url, h, messages({ metadata: { pad: 'x'.repeat(3000) } }));
  t.equal(big.status, 413);
  t.equal(JSON.parse(big.text).error.type, 'request_too_large');

  const bad = await post(url, h, '{"model": "echo-1", ');
  t.equal(bad.status, 400);
  t.match(err(bad.text), /not valid JSON/);

  const cases: Array<[string, string, RegExp]> = [
    ['missing max_tokens', JSON.stringify({ model: 'echo-1', messages: [{ role: 'user', content: 'hi' }] }), /^max_tokens: /],
    ['bad role', messages({ messages: [{ role: 'bot', content: 'hi' }] }), /^messages\[0\]\.role: /],
    ['empty messages', messages({ messages: [] }), /^messages: /],
    ['block without type', messages({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }), /^messages\[0\]\.content/],
    ['temperature out of range', messages({ temperature: 3 }), /^temperature: /],
    ['max_tokens not an integer', messages({ max_tokens: 'lots' }), /^max_tokens: /],
    ['over max_tokens', messages({ max_tokens: 101 }), /^max_tokens: 101 is above the maximum of 100/],
    ['prompt too many chars', messages({ messages: [{ role: 'user', content: 'a'.repeat(501) }] }), /501 characters, above the maximum of 500/],
    ['system counts too', messages({ system: 's'.repeat(300), messages: [{ role: 'user', content: 'u'.repeat(201) }] }), /501 characters/],
    ['body is not an object', '[1,2]', /must be a JSON object/],
  ];
  for (const [name, body, pattern] of cases) {
    const r = await post(url, h, body);
    t.equal(r.status, 400, name);
    t.match(err(r.text), pattern, name);
  }
  t.equal((await post(url, h, messages({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(1500) } }, { type: 'text', text: 'what is this?' }] }] }))).status, 200, 'image data is not prompt text');
  t.equal((await post(url, h, messages({ future_field: { anything: true } }))).status, 200, 'unknown fields pass (new API features)');
  t.equal((await fetch(`${gw.url}/v1/echo/v1/models`, { headers: h })).status, 200, 'non-generation requests are not validated');
});

t.test('prompt token estimate', async (t) => {
  const gw = await startGateway(t, withAuth('      max_prompt_tokens: 10\n      chars_per_token: 4\n'));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const h = { 'x-workspace-id': 'ws-abc123' };
  t.equal((await post(url, h, messages({ messages: [{ role: 'user', content: 'a'.repeat(40) }] }))).status, 200, '40 chars ≈ 10 tokens');
  const r = await post(url, h, messages({ messages: [{ role: 'user', content: 'a'.repeat(41) }] }));
  t.equal(r.status, 400);
  t.match(err(r.text), /about 11 tokens, above the maximum of 10/);
});

t.test('clamp rewrites max_tokens instead of refusing', async (t) => {
  const gw = await startGateway(t, withAuth('      max_tokens: 50\n      max_tokens_action: clamp\n'));
  const r = await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123' }, messages({ max_tokens: 4000 }));
  t.equal(r.status, 200);
  t.equal(r.headers.get('x-gateway-max-tokens-clamped'), '4000->50');
});

t.test('model allowlists: global, per provider, per user, wildcards; limits per user', async (t) => {
  const gw = await startGateway(t, withAuth(`      models: ["echo-*", "claude-*"]
      providers:
        echo:
          models: ["echo-1", "echo-2*", "claude-sonnet-*"]
          max_tokens: 1000
      users:
        contractor1:
          models: ["echo-1"]
          max_tokens: 10
`));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const c1 = { 'x-workspace-id': 'ws-abc123' };
  const admin = { 'x-workspace-id': 'ws_under_score' };
  t.equal((await post(url, admin, messages({ model: 'echo-2-large' }))).status, 200, 'provider wildcard');
  t.equal((await post(url, admin, messages({ model: 'claude-sonnet-4-5-20250929' }))).status, 200, 'current Claude ids pass a wildcard');
  const notProvider = await post(url, admin, messages({ model: 'echo-3' }));
  t.equal(notProvider.status, 403);
  t.match(err(notProvider.text), /model: "echo-3" is not allowed for provider "echo"/);
  const notGlobal = await post(url, admin, messages({ model: 'gpt-4o' }));
  t.match(err(notGlobal.text), /not allowed for this gateway/);
  const notUser = await post(url, c1, messages({ model: 'echo-2' }));
  t.equal(notUser.status, 403);
  t.match(err(notUser.text), /not allowed for user "contractor1"/);
  t.equal((await post(url, c1, messages({ max_tokens: 10 }))).status, 200);
  t.equal((await post(url, c1, messages({ max_tokens: 11 }))).status, 400, 'the user limit wins over the provider one');
  t.equal((await post(url, admin, messages({ max_tokens: 1000 }))).status, 200, 'the provider limit applies to others');
  t.equal((await post(url, admin, messages({ max_tokens: 1001 }))).status, 400);
});

t.test('schemas: a custom file beside the config; a missing one is a config error', async (t) => {
  const gw0 = await startGateway(t, 'filters: []\n');
  writeFileSync(path.join(gw0.dir, 'strict.schema.json'), JSON.stringify({ type: 'object', required: ['model', 'messages', 'max_tokens', 'metadata'] }));
  const gw = await startGateway(t, withAuth('      schemas:\n        anthropic: ./strict.schema.json\n'), { dir: gw0.dir });
  const r = await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123' });
  t.equal(r.status, 400);
  t.match(err(r.text), /^metadata: /);
  await t.rejects(startGateway(t, withAuth('      schemas:\n        anthropic: ./missing.json\n')), /schemas\.anthropic: cannot load/);
  await t.rejects(startGateway(t, withAuth('      max_tokens_action: shrink\n')), /max_tokens_action/);
});

t.test('a body ajv cannot compare (a member named toString) is a 400, and the gateway goes on', async (t) => {
  const gw0 = await startGateway(t, 'filters: []\n');
  writeFileSync(path.join(gw0.dir, 'enum.schema.json'), JSON.stringify({ type: 'object', properties: { metadata: { enum: [{ tier: 'gold' }, null] }, tags: { type: 'array', uniqueItems: true } } }));
  const gw = await startGateway(t, withAuth('      schemas:\n        anthropic: ./enum.schema.json\n'), { dir: gw0.dir });
  const url = `${gw.url}/v1/echo/v1/messages`;
  const h = { 'x-workspace-id': 'ws-abc123' };
  for (const [name, extra] of [['enum', { metadata: { toString: 1 } }], ['uniqueItems', { tags: [{ valueOf: 'x' }, { valueOf: 'x' }] }]] as const) {
    const r = await post(url, h, messages(extra));
    t.equal(r.status, 400, `${name}: refused as the client's`);
    t.match(err(r.text), /^\(body\): could not be compared with the request schema's values/, name);
  }
  t.equal((await post(url, h, messages({ metadata: { tier: 'gold' } }))).status, 200, 'a body it can compare is judged as ever');
  t.equal((await post(url, h, messages({ metadata: { tier: 'lead' } }))).status, 400);
});

t.test('validator alone, without identity', async (t) => {
  const gw = await startGateway(t, config('  - name: validator\n    config:\n      max_tokens: 10\n'));
  t.equal((await post(`${gw.url}/v1/echo/v1/messages`, {}, messages({ max_tokens: 11 }))).status, 400);
  t.equal((await post(`${gw.url}/v1/echo/v1/messages`, {}, messages({ max_tokens: 10 }))).status, 200);
});

t.test('text outside ASCII: checked without being decoded, judged by its characters wherever they count', async (t) => {
  const gw0 = await startGateway(t, 'filters: []\n');
  // Names every metadata field in its error; has nothing that measures text: judged on the shape.
  writeFileSync(path.join(gw0.dir, 'meta.schema.json'), JSON.stringify({ type: 'object', properties: { metadata: { type: 'object', additionalProperties: { type: 'string' } } } }));
  // Measures text: judged on the decoded body.
  writeFileSync(path.join(gw0.dir, 'short.schema.json'), JSON.stringify({ type: 'object', properties: { messages: { type: 'array', items: { properties: { content: { type: 'string', maxLength: 5 } } } } } }));
  const h = { 'x-workspace-id': 'ws-abc123' };
  const say = (content: string, extra: Record<string, unknown> = {}): string => messages({ messages: [{ role: 'user', content }], ...extra });

  const plain = await startGateway(t, withAuth('      max_prompt_chars: 5\n      max_tokens: 50\n      max_tokens_action: clamp\n'), { dir: gw0.dir });
  const ok = await post(`${plain.url}/v1/echo/v1/messages`, h, say('ééé✓😀'.slice(0, 5), { max_tokens: 4000 }));
  t.equal(ok.status, 200, 'five characters (eleven bytes) are within a 5-character prompt');
  t.equal(ok.headers.get('x-gateway-max-tokens-clamped'), '4000->50', 'clamped');
  t.match(ok.text, 'ééé✓', 'the clamped body still carries the text as sent');
  const long = await post(`${plain.url}/v1/echo/v1/messages`, h, say('éééééé'));
  t.equal(long.status, 400);
  t.match(err(long.text), /the prompt is 6 characters/, 'counted in characters, not bytes');

  const meta = await startGateway(t, withAuth('      schemas:\n        anthropic: ./meta.schema.json\n'), { dir: gw0.dir });
  t.equal((await post(`${meta.url}/v1/echo/v1/messages`, h, say('Ça va ✓', { metadata: { 'clé': 'valeur ✓' } }))).status, 200, 'a valid body outside ASCII passes');
  const badMeta = await post(`${meta.url}/v1/echo/v1/messages`, h, say('Ça va ✓', { metadata: { 'clé': 5 } }));
  t.equal(badMeta.status, 400);
  t.match(err(badMeta.text), /^metadata\.clé: must be string/, 'the field named in real characters');

  const short = await startGateway(t, withAuth('      schemas:\n        anthropic: ./short.schema.json\n'), { dir: gw0.dir });
  t.equal((await post(`${short.url}/v1/echo/v1/messages`, h, say('ééééé'))).status, 200, 'maxLength 5 admits five characters of ten bytes');
  t.equal((await post(`${short.url}/v1/echo/v1/messages`, h, say('éééééé'))).status, 400, 'and refuses six');
});

t.test('which schemas may judge a body by its shape', async (t) => {
  t.ok(loadSchema(resolveSchemaPath('anthropic-messages.schema.json', '/')).shapeSafe, 'the shipped Anthropic schema: prompts are never decoded for it');
  t.ok(shapeSafe({ type: 'object', required: ['model'], properties: { model: { type: 'string', minLength: 1 }, role: { enum: ['user', 'assistant'] } } }));
  for (const [name, schema] of [
    ['maxLength', { properties: { text: { type: 'string', maxLength: 10 } } }],
    ['minLength above one', { properties: { text: { minLength: 2 } } }],
    ['pattern', { properties: { model: { pattern: '^claude-' } } }],
    ['format', { properties: { url: { format: 'uri' } } }],
    ['propertyNames', { propertyNames: { maxLength: 3 } }],
    ['patternProperties', { patternProperties: { '^x-': {} } }],
    ['an enum value outside ASCII', { properties: { lang: { enum: ['français'] } } }],
    ['a property named outside ASCII', { properties: { 'clé': { type: 'number' } } }],
  ] as const) t.notOk(shapeSafe(schema), name);
});

t.test('long bodies, whose long strings the SIMD scanner reads: the same answers as short ones', async (t) => {
  // A clamp to 15,000 tokens still lets echo (which stops at max_tokens, ~4 characters a token) send all 60,000 back.
  const gw = await startGateway(t, withAuth('      max_prompt_chars: 60000\n      max_tokens: 15000\n      max_tokens_action: clamp\n'));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const h = { 'x-workspace-id': 'ws-abc123' };
  const say = (content: string, extra: Record<string, unknown> = {}): string => messages({ messages: [{ role: 'user', content }], ...extra });
  // Every kind of escape JSON.stringify writes, so the scanner decodes as it reads.
  const ascii = (chars: number): string => 'const s = "quoted" \\ path;\t// done\r\n\u0001'.repeat(chars).slice(0, chars);
  const utf8 = (chars: number): string => 'const s = "quoted" \\ path;\t// → done ✓\n'.repeat(chars).slice(0, chars);

  for (const [name, text] of [['ASCII', ascii], ['outside ASCII', utf8]] as const) {
    const at = await post(url, h, say(text(60_000), { max_tokens: 40_000 }));
    t.equal(at.status, 200, `${name}: 60,000 characters, escapes and all, within a 60,000-character prompt`);
    t.equal(at.headers.get('x-gateway-max-tokens-clamped'), '40000->15000', `${name}: clamped`);
    t.equal((JSON.parse(at.text) as { content: Array<{ text: string }> }).content[0].text, text(60_000), `${name}: the text arrives as sent`);
    const over = await post(url, h, say(text(60_001)));
    t.equal(over.status, 400, `${name}: one character more`);
    t.match(err(over.text), /the prompt is 60001 characters/, `${name}: counted in characters`);
  }
  const badRole = await post(url, h, messages({ messages: [{ role: 'bot', content: ascii(50_000) }] }));
  t.equal(badRole.status, 400);
  t.match(err(badRole.text), /^messages\[0\]\.role: /, 'the schema still judges the short fields');

  const raw = say(ascii(50_000)).replace('path;', 'path;\u0002');
  let message = '';
  try {
    JSON.parse(raw);
  } catch (e) {
    message = (e as Error).message;
  }
  const bad = await post(url, h, raw);
  t.equal(bad.status, 400, 'a raw control byte inside a long string');
  t.equal(err(bad.text), `Request body is not valid JSON: ${message}`, "V8's own message");
});
