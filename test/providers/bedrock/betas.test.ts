/**
 * `anthropic_betas.allow` on the Bedrock provider: betas it does not name are dropped from the
 * `anthropic-beta` header and from the body's `anthropic_beta` before InvokeModel, its stream,
 * the Messages API (Runtime and bedrock-mantle), count_tokens and the gateway's `/invoke`, so
 * Bedrock's 400 "invalid beta flag" is never provoked; bodies with nothing to drop go byte for
 * byte; without the option everything is forwarded as before. Drops are counted, the `beta`
 * label bounded.
 */
import t from 'tap';
import { call } from '../../helpers/http.js';
import { postWithBetas as post, sent, countedBody } from '../../helpers/bedrock-betas.js';
import { GATEWAY_CREDS, SONNET, startBedrock } from '../../helpers/bedrock.js';
import { BedrockMock } from '../../mocks/bedrock-mock.js';
import { namesBetaMember } from '../../../providers/bedrock/betas.js';

const ALLOWED = 'interleaved-thinking-2025-05-14';
const ALSO_ALLOWED = 'context-1m-2025-08-07';
const PROVIDER_YAML = `    anthropic_betas:
      allow: [${ALLOWED}, ${ALSO_ALLOWED}]`;

const INVOKE = `/model/${encodeURIComponent(SONNET)}/invoke`;
const INVOKE_STREAM = `/model/${encodeURIComponent(SONNET)}/invoke-with-response-stream`;
const MESSAGES_MODEL = 'global.anthropic.claude-opus-4-6-v1';

/** A Claude Code–like pair: betas Bedrock refuses beside ones it takes, in the header and the body. */
const HEADER = `claude-code-20250219, ${ALLOWED},fine-grained-tool-streaming-2025-05-14`;
const BODY_BETAS = [ALLOWED, 'mcp-servers-2025-12-04', ALSO_ALLOWED, 'extended-cache-ttl-2025-04-11'];

function invokeBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }], ...extra });
}

function messagesBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: MESSAGES_MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }], ...extra });
}

t.test('InvokeModel and its stream: header and body betas not allowed are dropped', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  for (const op of [INVOKE, INVOKE_STREAM]) {
    const res = await post(endpoint + op, invokeBody({ anthropic_beta: BODY_BETAS }), HEADER);
    t.equal(res.status, 200, `${op}: served`);
    const up = mock.last!;
    t.same(sent(up).anthropic_beta, [ALLOWED, ALSO_ALLOWED], `${op}: the body keeps the allowed betas, in order`);
    t.equal(up.headers['anthropic-beta'], ALLOWED, `${op}: the header keeps the allowed one`);
    t.same(sent(up).messages, [{ role: 'user', content: 'Hello' }], `${op}: the rest of the body is intact`);
  }
});

t.test('nothing left: the body member and the header are removed, not sent empty', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  const res = await post(endpoint + INVOKE, invokeBody({ anthropic_beta: ['claude-code-20250219'] }), 'mcp-servers-2025-12-04');
  t.equal(res.status, 200);
  const up = mock.last!;
  t.notOk('anthropic_beta' in sent(up), 'no anthropic_beta member');
  t.equal(up.headers['anthropic-beta'], undefined, 'no anthropic-beta header');
});

t.test('a body with nothing to drop is forwarded byte for byte', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  // Spacing JSON.stringify would not write: a re-serialised body would differ.
  const cases = [
    '{ "anthropic_version": "bedrock-2023-05-31",  "max_tokens": 64, "messages": [ {"role":"user","content":"Hi \\u00e9"} ] }',
    `{ "anthropic_version": "bedrock-2023-05-31", "anthropic_beta": [ "${ALLOWED}" ], "max_tokens": 64, "messages": [{"role":"user","content":"Hi"}] }`,
    '{ "anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [{"role":"user","content":"the \\"anthropic_beta\\" key in a prompt"}] }',
  ];
  for (const body of cases) {
    for (const op of [INVOKE, INVOKE_STREAM]) {
      const res = await post(endpoint + op, body, ALLOWED);
      t.equal(res.status, 200);
      t.equal(mock.last!.body.toString('utf8'), body, `${op}: ${body.slice(0, 70)}…`);
      t.equal(mock.last!.headers['anthropic-beta'], ALLOWED, `${op}: an allowed header unchanged`);
    }
  }
});

t.test('/anthropic/v1/messages on the Runtime: betas filtered, the version still spliced in', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  const res = await post(`${endpoint}/anthropic/v1/messages`, messagesBody({ anthropic_beta: BODY_BETAS }), HEADER);
  t.equal(res.status, 200, res.text);
  const up = mock.last!;
  t.equal(up.url, '/anthropic/v1/messages');
  t.equal(sent(up).anthropic_version, 'bedrock-2023-05-31', 'the Runtime version added');
  t.same(sent(up).anthropic_beta, [ALLOWED, ALSO_ALLOWED], 'the body keeps the allowed betas');
  t.equal(up.headers['anthropic-beta'], ALLOWED, 'the header keeps the allowed one');

  const plain = messagesBody();
  await post(`${endpoint}/anthropic/v1/messages`, plain, ALLOWED);
  t.equal(mock.last!.body.toString('utf8'), `{"anthropic_version":"bedrock-2023-05-31",${plain.slice(1)}`, 'no betas in the body: only the version splice');
});

t.test('count_tokens on the Runtime: the merged header and body betas filtered in the InvokeModel body', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  const res = await post(`${endpoint}/anthropic/v1/messages/count_tokens`, messagesBody({ anthropic_beta: ['mcp-servers-2025-12-04', ALSO_ALLOWED] }), HEADER);
  t.equal(res.status, 200, res.text);
  t.same(countedBody(mock.last!).anthropic_beta, [ALSO_ALLOWED, ALLOWED], "the body's allowed first, then the header's");

  await post(`${endpoint}/anthropic/v1/messages/count_tokens`, messagesBody(), 'claude-code-20250219');
  t.notOk('anthropic_beta' in countedBody(mock.last!), 'nothing allowed: no member');
});

t.test('bedrock-mantle: Messages and count_tokens get the filtered header and body', async (t) => {
  const mantle = await BedrockMock.start([GATEWAY_CREDS], { service: 'bedrock-mantle' });
  t.teardown(() => mantle.close());
  const { endpoint } = await startBedrock(t, { providerYaml: `${PROVIDER_YAML}\n    messages_endpoint: mantle\n    mantle_base_url: ${mantle.url}` });
  for (const path of ['/anthropic/v1/messages', '/anthropic/v1/messages/count_tokens']) {
    const res = await post(endpoint + path, messagesBody({ anthropic_beta: BODY_BETAS }), HEADER);
    t.equal(res.status, 200, `${path}: ${res.text}`);
    const up = mantle.last!;
    t.equal(up.url, path);
    t.same(sent(up).anthropic_beta, [ALLOWED, ALSO_ALLOWED], `${path}: the body keeps the allowed betas`);
    t.equal(up.headers['anthropic-beta'], ALLOWED, `${path}: the header keeps the allowed one`);
  }
});

t.test("the gateway's /invoke: the model body's betas filtered", async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  const res = await post(`${endpoint}/invoke`, JSON.stringify({ model_id: SONNET, body: JSON.parse(invokeBody({ anthropic_beta: BODY_BETAS })) as unknown }));
  t.equal(res.status, 200, res.text);
  t.same(sent(mock.last!).anthropic_beta, [ALLOWED, ALSO_ALLOWED]);
});

t.test('without anthropic_betas every beta is forwarded as before', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  const body = invokeBody({ anthropic_beta: BODY_BETAS });
  await post(endpoint + INVOKE, body, HEADER);
  t.equal(mock.last!.body.toString('utf8'), body, 'the body byte for byte');
  t.equal(mock.last!.headers['anthropic-beta'], HEADER, 'the header as sent');
  await post(`${endpoint}/anthropic/v1/messages/count_tokens`, messagesBody(), 'claude-code-20250219');
  t.same(countedBody(mock.last!).anthropic_beta, ['claude-code-20250219'], 'count_tokens keeps the header betas');
});

t.test('drops are counted once per request and beta, the beta label bounded', async (t) => {
  const { endpoint, gw } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  // The same beta in the header and the body is one drop.
  await post(endpoint + INVOKE, invokeBody({ anthropic_beta: ['claude-code-20250219'] }), 'claude-code-20250219');
  let metrics = (await call(`${gw.url}/metrics`)).text;
  t.match(metrics, /^gateway_bedrock_betas_dropped_total\{provider="bedrock",beta="claude-code-20250219"\} 1$/m);
  t.notMatch(metrics, new RegExp(`beta="${ALLOWED}"`), 'allowed betas are not counted');
  // Invented names: a few dozen get no series of their own past the bound, nor do odd strings.
  const invented = Array.from({ length: 40 }, (_, i) => `made-up-${i}`);
  await post(endpoint + INVOKE, invokeBody({ anthropic_beta: invented }), 'Not A Beta!');
  metrics = (await call(`${gw.url}/metrics`)).text;
  const series = metrics.split('\n').filter((l) => l.startsWith('gateway_bedrock_betas_dropped_total{'));
  t.equal(series.length, 33, '32 named series and "other"');
  t.match(metrics, /^gateway_bedrock_betas_dropped_total\{provider="bedrock",beta="other"\} 10$/m, 'the rest, and the odd string, as other');
});

t.test('a beta with a comma or a space is refused by the config schema', async (t) => {
  await t.rejects(startBedrock(t, { providerYaml: '    anthropic_betas:\n      allow: ["a,b"]' }));
  await t.rejects(startBedrock(t, { providerYaml: '    anthropic_betas: {}' }), 'allow or models is required');
});

t.test('the byte search finds the member name whole, and only it', async (t) => {
  t.ok(namesBetaMember(Buffer.from('{"anthropic_beta":["a"]}')));
  t.ok(namesBetaMember(Buffer.from('{"x":1, "anthropic_beta" : []}')));
  t.notOk(namesBetaMember(Buffer.from('{"x_beta":1,"anthropic_betas":[]}')), 'another name ending the same way');
  t.notOk(namesBetaMember(Buffer.from('_beta"')), 'the tail at the very start');
  t.notOk(namesBetaMember(Buffer.from('{"content":"an \\"anthropic_beta\\" in a prompt"}')), 'an escaped quote is no member');
  t.notOk(namesBetaMember(Buffer.from('{"messages":[]}')));
});
