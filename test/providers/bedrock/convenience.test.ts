import t from 'tap';
import { call } from '../../helpers/http.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { MOCK_USAGE } from '../../mocks/bedrock-mock.js';
import { GATEWAY_CREDS, SONNET, WORKSPACE, startBedrock } from '../../helpers/bedrock.js';

const headers = { 'x-workspace-id': WORKSPACE };
/** The seed's curl example body. */
const seed = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model_id: SONNET, body: { anthropic_version: 'bedrock-2023-05-31', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 1024 }, ...extra });

t.test("the seed's POST /v1/bedrock/invoke returns the model's JSON", async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  const res = await call(`${endpoint}/invoke`, { headers, body: seed() });
  t.equal(res.status, 200);
  t.match(res.json(), { type: 'message', content: [{ type: 'text', text: mock.text }], echo_max_tokens: 1024 }, 'the model body, as Bedrock answered it');
  const up = mock.last!;
  t.equal(up.url, `/model/${encodeURIComponent(SONNET)}/invoke`, 'InvokeModel with the encoded id');
  t.same(JSON.parse(up.body.toString()), JSON.parse(seed()).body, 'the inner body is what the model got');
  t.equal(up.accessKeyId, GATEWAY_CREDS.accessKeyId);
  const rec = await outcomeFor(String(res.headers['x-request-id']));
  t.same(rec.outcome.usage, { inputTokens: MOCK_USAGE.invoke.input, outputTokens: MOCK_USAGE.invoke.output, cacheCreationTokens: 0, cacheReadTokens: 0 });
  t.equal(rec.model, SONNET);
  t.equal(rec.maxOutputTokens, 1024);
  t.equal(rec.kind, 'generation');
});

t.test('with "stream": true it streams the model events as SSE', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  const res = await call(`${endpoint}/invoke`, { headers, body: seed({ stream: true }) });
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /^text\/event-stream/);
  t.equal(mock.last?.url, `/model/${encodeURIComponent(SONNET)}/invoke-with-response-stream`);
  const blocks = res.text.split('\n\n').filter(Boolean);
  t.equal(blocks.at(-1), 'event: end\ndata: {}', 'ends with an end event');
  const events = blocks.slice(0, -1).map((b) => JSON.parse(b.replace(/^data: /, '')) as { type: string; delta?: { text: string } });
  t.equal(events[0].type, 'message_start', 'the decoded chunk payloads, in order');
  t.equal(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta!.text).join(''), mock.text);
  const rec = await outcomeFor(String(res.headers['x-request-id']));
  t.same(rec.outcome.usage, { inputTokens: 41, outputTokens: 42, cacheReadTokens: 43, cacheCreationTokens: 44 }, 'usage from the invocation metrics');
  t.equal(rec.outcome.stream, true);
  t.notOk(rec.outcome.error);

  mock.streamException = { type: 'throttlingException', message: 'slow down' };
  const failed = await call(`${endpoint}/invoke`, { headers, body: seed({ stream: true }) });
  t.match(failed.text, /event: error\ndata: \{"type":"throttlingException","message":"slow down"\}/, 'an exception frame becomes an SSE error event');
  t.match((await outcomeFor(String(failed.headers['x-request-id']))).outcome.error, { kind: 'stream_error' });
});

t.test('a bad convenience request is a ValidationException; upstream errors pass unchanged', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  for (const [body, field] of [
    [JSON.stringify({ body: {} }), /model_id/],
    [JSON.stringify({ model_id: SONNET }), /body/],
    [JSON.stringify({ model_id: SONNET, body: {}, stream: 'yes' }), /stream/],
    ['not json', /JSON/],
    // Valid JSON, but a lone surrogate has no UTF-8 to put in a path (it was a 500 URIError).
    ['{"model_id":"\\ud800","body":{}}', /model_id/],
    [`{"model_id":"${SONNET}\\udfff","body":{}}`, /model_id/],
    [JSON.stringify({ model_id: '..', body: {} }), /model_id/],
  ] as const) {
    const res = await call(`${endpoint}/invoke`, { headers, body });
    t.equal(res.status, 400);
    t.equal(res.headers['x-amzn-errortype'], 'ValidationException');
    t.match(res.json().message, field);
    t.not((await outcomeFor(String(res.headers['x-request-id']))).outcome.error?.code, 'GW_ERR_INTERNAL', `${body}: not an internal error`);
  }
  const get = await call(`${endpoint}/invoke`, { headers });
  t.equal(get.status, 405);
  t.equal(mock.requests.length, 0, 'none reached Bedrock');

  mock.region = 'eu-west-1'; // the mock now refuses the gateway's us-east-1 signatures
  const upstream = await call(`${endpoint}/invoke`, { headers, body: seed() });
  t.equal(upstream.status, 403);
  t.equal(upstream.headers['x-amzn-errortype'], 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/', 'the upstream error header, unchanged');
  t.match(upstream.json(), { message: /scoped to eu-west-1/ }, 'the upstream error body, unchanged');
  t.match((await outcomeFor(String(upstream.headers['x-request-id']))).outcome.error, { kind: 'upstream_status' });
});

t.test('a prompt outside ASCII, raw or escaped as Python writes it, reaches the model as its text', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  const inner = { anthropic_version: 'bedrock-2023-05-31', messages: [{ role: 'user', content: 'Résumé → ✓, 中文, 😀' }], max_tokens: 64 };
  const raw = JSON.stringify({ model_id: SONNET, body: inner });
  const escaped = raw.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  for (const body of [raw, escaped]) {
    const res = await call(`${endpoint}/invoke`, { headers, body });
    t.equal(res.status, 200);
    t.equal(mock.last!.accessKeyId, GATEWAY_CREDS.accessKeyId, 'signed over the bytes sent');
    t.equal(mock.last!.body.toString('utf8'), JSON.stringify(inner), 'the model body as the decoded text would serialise');
  }
});

t.test("the validator's clamp lowers the cap inside /invoke's body, and that body goes upstream signed", async (t) => {
  const clamp = '  - name: validator\n    config:\n      max_tokens: 100\n      max_tokens_action: clamp';
  const { mock, endpoint } = await startBedrock(t, { filtersYaml: clamp });
  const prompt = 'a long prompt line\n'.repeat(600); // past the scanner's threshold: its literal is copied
  for (const stream of [false, true]) {
    const body = JSON.stringify({ model_id: SONNET, stream, body: { anthropic_version: 'bedrock-2023-05-31', messages: [{ role: 'user', content: prompt }], max_tokens: 4096 } });
    const res = await call(`${endpoint}/invoke`, { headers, body });
    t.equal(res.status, 200, `stream ${stream}: served, not refused`);
    t.equal(res.headers['x-gateway-max-tokens-clamped'], '4096->100', `stream ${stream}: the client is told`);
    const up = JSON.parse(mock.last!.body.toString()) as { max_tokens: number; messages: Array<{ content: string }> };
    t.equal(up.max_tokens, 100, `stream ${stream}: the model got the clamped cap (the mock checked the signature over these bytes)`);
    t.equal(up.messages[0].content, prompt, `stream ${stream}: the prompt unchanged`);
    const rec = await outcomeFor(String(res.headers['x-request-id']));
    t.equal(rec.maxOutputTokens, 100);
  }
});

t.test("the clamp reaches Bedrock's older native caps: max_tokens_to_sample, max_gen_len", async (t) => {
  const clamp = '  - name: validator\n    config:\n      max_tokens: 100\n      max_tokens_action: clamp';
  const { mock, endpoint } = await startBedrock(t, { filtersYaml: clamp });
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['anthropic.claude-v2', { prompt: '\n\nHuman: hi\n\nAssistant:', max_tokens_to_sample: 2000 }, 'max_tokens_to_sample'],
    ['meta.llama3-8b-instruct-v1:0', { prompt: 'hi', max_gen_len: 2000 }, 'max_gen_len'],
  ];
  for (const [model, body, field] of cases) {
    const res = await call(`${endpoint}/model/${model}/invoke`, { headers, body: JSON.stringify(body) });
    t.equal(res.headers['x-gateway-max-tokens-clamped'], '2000->100', `${field}: clamped`);
    t.equal((JSON.parse(mock.last!.body.toString()) as Record<string, unknown>)[field], 100, `${field}: lowered upstream`);
  }
});
