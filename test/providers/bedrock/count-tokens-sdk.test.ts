/**
 * `messages.countTokens` on the Anthropic Messages path of Bedrock
 * (`/v1/bedrock/anthropic/v1/messages/count_tokens`), driven by the real `@anthropic-ai/sdk`
 * as Claude Code and the SDK call it with `baseURL=…/v1/bedrock/anthropic`: a workspace key
 * (`x-api-key`, Bearer) or a SigV4 signature. On the Runtime it becomes CountTokens on the
 * base model with the InvokeModel body Claude would get (base64), signed with the gateway's
 * key (the mock verifies it and decodes the body); the count comes back as Anthropic's
 * `{"input_tokens"}`, errors in Anthropic's shape. On bedrock-mantle, Anthropic's
 * count_tokens is forwarded as it is. Auxiliary: audited, nothing charged.
 */
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import t from 'tap';
import { auditLines, waitFor } from '../../filters/fixtures.js';
import { call } from '../../helpers/http.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { GATEWAY_CREDS, WORKSPACE, WORKSPACE_KEY, startBedrock, workspaceSigner } from '../../helpers/bedrock.js';
import type { TestGateway } from '../../helpers/gateway.js';
import { BedrockMock } from '../../mocks/bedrock-mock.js';
import { textTokens } from '../../mocks/bedrock-count-tokens.js';

/** A global profile, as Claude Code names Opus; CountTokens is asked for its base model. */
const MODEL = 'global.anthropic.claude-opus-4-6-v1';
const BASE = 'anthropic.claude-opus-4-6-v1';

const FILTERS = `  - name: cost
  - name: rate-limit
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 10 }`;

/** A count Claude Code would send: a system prompt, a tool, a conversation. */
const PARAMS = {
  model: MODEL,
  system: 'You are a terse assistant.',
  tools: [{ name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }],
  messages: [
    { role: 'user' as const, content: 'How many tokens is this?' },
    { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'Let me count.' }] },
    { role: 'user' as const, content: 'Thanks!' },
  ],
};
const { model: _model, ...WITHOUT_MODEL } = PARAMS;
/** What InvokeModel gets: no model, the Runtime's version, a `max_tokens` placeholder. */
const INVOKE_BODY = { anthropic_version: 'bedrock-2023-05-31', ...WITHOUT_MODEL, max_tokens: 1 };
const COUNT = textTokens(PARAMS);

/** A fetch that signs each call with the workspace's SigV4 pair (service `bedrock`), as a SigV4 Anthropic client does, in place of a key. */
function sigv4Fetch(): typeof fetch {
  const signer = workspaceSigner();
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => {
      if (k !== 'x-api-key' && k !== 'authorization') headers[k] = v;
    });
    const body = typeof init.body === 'string' ? init.body : '';
    const method = init.method ?? 'GET';
    const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: Object.fromEntries(url.searchParams), headers: { ...headers, host: url.host }, body });
    const reply = await call(url.toString(), { method, headers: signed.headers as Record<string, string>, body });
    const out = new Headers();
    for (const [k, v] of Object.entries(reply.headers)) if (typeof v === 'string') out.set(k, v);
    return new Response(reply.text, { status: reply.status, headers: out });
  }) as typeof fetch;
}

type Auth = 'x-api-key' | 'bearer' | 'sigv4';

function sdk(gw: TestGateway, auth: Auth): Anthropic {
  const baseURL = `${gw.url}/v1/bedrock/anthropic`;
  if (auth === 'bearer') return new Anthropic({ apiKey: null, authToken: WORKSPACE_KEY, baseURL, maxRetries: 0 });
  if (auth === 'sigv4') return new Anthropic({ apiKey: 'signed-instead', baseURL, maxRetries: 0, fetch: sigv4Fetch() });
  return new Anthropic({ apiKey: WORKSPACE_KEY, baseURL, maxRetries: 0 });
}

async function auditFor(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  const file = path.join(gw.dir, 'audit.log');
  await waitFor(() => auditLines(file).some((l) => l.request_id === requestId));
  return auditLines(file).find((l) => l.request_id === requestId)!;
}

/** The InvokeModel body CountTokens got, decoded from its base64. */
function invokeBodyOf(up: { body: Buffer }): unknown {
  const envelope = JSON.parse(up.body.toString('utf8')) as { input: { invokeModel: { body: string } } };
  return JSON.parse(Buffer.from(envelope.input.invokeModel.body, 'base64').toString('utf8'));
}

t.test('the Runtime: CountTokens on the base model with the InvokeModel body, the count in Anthropic shape, audited, not charged', async (t) => {
  const { mock, gw } = await startBedrock(t, { requireKeys: true, filtersYaml: FILTERS });
  for (const auth of ['x-api-key', 'bearer', 'sigv4'] as Auth[]) {
    for (const beta of [false, true]) {
      const name = `${auth}${beta ? ', beta' : ''}`;
      const client = sdk(gw, auth);
      const { data, response } = beta
        ? await client.beta.messages.countTokens({ ...PARAMS, betas: ['token-counting-2024-11-01'] }).withResponse()
        : await client.messages.countTokens(PARAMS).withResponse();
      t.same(data, { input_tokens: COUNT }, `${name}: the mock's count of the prompt, as Anthropic's answer`);
      const up = mock.last!;
      t.equal(up.url, `/model/${encodeURIComponent(BASE)}/count-tokens`, `${name}: CountTokens on the base model, no query`);
      t.equal(up.accessKeyId, GATEWAY_CREDS.accessKeyId, `${name}: signed with the gateway's key (verified by the mock)`);
      t.same(invokeBodyOf(up), beta ? { ...INVOKE_BODY, anthropic_beta: ['token-counting-2024-11-01'] } : INVOKE_BODY, `${name}: the InvokeModel body Claude would get, the SDK's betas in it`);
      t.notMatch(JSON.stringify(up.headers), new RegExp(`${WORKSPACE_KEY}|x-api-key|anthropic-`), `${name}: no client key, no Anthropic header upstream`);
      const id = response.headers.get('x-request-id')!;
      const rec = await outcomeFor(id);
      t.equal(rec.kind, 'auxiliary', `${name}: no generation`);
      t.same([rec.outcome.usage?.inputTokens ?? 0, rec.outcome.usage?.outputTokens ?? 0], [0, 0], `${name}: the count is not charged`);
      const line = await auditFor(gw, id);
      t.match(line, { event: 'ai_request', workspace: WORKSPACE, provider: 'bedrock', model: MODEL, tokens_in: 0, tokens_out: 0, status: 200 }, `${name}: audited with the model as sent`);
    }
  }
  // Claude Code asks with `?beta=true`; CountTokens takes no query.
  const beta = await call(`${gw.url}/v1/bedrock/anthropic/v1/messages/count_tokens?beta=true`, { headers: { 'x-api-key': WORKSPACE_KEY, 'anthropic-version': '2023-06-01' }, body: JSON.stringify(PARAMS) });
  t.same([beta.status, beta.json()], [200, { input_tokens: COUNT }], '?beta=true: the count');
  t.equal(mock.last!.url, `/model/${encodeURIComponent(BASE)}/count-tokens`, '?beta=true: CountTokens, no query');
});

t.test("the Runtime's refusals and the gateway's, in Anthropic's shape", async (t) => {
  const { mock, gw } = await startBedrock(t, { requireKeys: true, filtersYaml: FILTERS });
  const client = sdk(gw, 'x-api-key');

  const unknown = await client.messages.countTokens({ ...PARAMS, model: 'anthropic.unknown-model-v1:0' }).catch((e: unknown) => e);
  t.type(unknown, Anthropic.BadRequestError, "an unknown model: the Runtime's 400 as the SDK's BadRequestError");
  t.match((unknown as InstanceType<typeof Anthropic.APIError>).error, { type: 'error', error: { type: 'invalid_request_error', message: 'The provided model identifier is invalid.' } });

  mock.nextError = { status: 403, type: 'AccessDeniedException', message: 'You do not have access to the model with the specified model ID.' };
  const denied = await client.messages.countTokens(PARAMS).catch((e: unknown) => e);
  t.type(denied, Anthropic.PermissionDeniedError, "the Runtime's 403 as the SDK's PermissionDeniedError");
  t.match((denied as InstanceType<typeof Anthropic.APIError>).error, { type: 'error', error: { type: 'permission_error', message: /do not have access/ } });

  mock.nextError = { status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.', headers: { 'retry-after': '3' } };
  const limited = await client.messages.countTokens(PARAMS).withResponse().catch((e: unknown) => e);
  t.type(limited, Anthropic.RateLimitError, "the Runtime's 429 as the SDK's RateLimitError");
  t.equal((limited as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after'), '3', 'its retry-after kept');
  const line = await auditFor(gw, (limited as InstanceType<typeof Anthropic.APIError>).headers!.get('x-request-id')!);
  t.match(line, { model: MODEL, status: 429 }, 'an upstream refusal is audited too');

  const sent = mock.requests.length;
  const noModel = await call(`${gw.url}/v1/bedrock/anthropic/v1/messages/count_tokens`, { headers: { 'x-api-key': WORKSPACE_KEY }, body: '{"messages":[]}' });
  t.equal(noModel.status, 400);
  t.match(noModel.json(), { type: 'error', error: { type: 'invalid_request_error', message: /model/ } }, 'no model: a 400 naming it, as the path must name one');
  const notJson = await call(`${gw.url}/v1/bedrock/anthropic/v1/messages/count_tokens`, { headers: { 'x-api-key': WORKSPACE_KEY }, body: '{"model":' });
  t.equal(notJson.status, 400);
  t.match(notJson.json(), { type: 'error', error: { type: 'invalid_request_error' } });
  const get = await call(`${gw.url}/v1/bedrock/anthropic/v1/messages/count_tokens`, { headers: { 'x-api-key': WORKSPACE_KEY } });
  t.equal(get.status, 405);
  t.match(get.json(), { type: 'error', error: { type: 'invalid_request_error' } });
  t.equal(mock.requests.length, sent, "the gateway's refusals send nothing upstream");
});

t.test('bedrock-mantle: Anthropic\'s count_tokens forwarded as it is, signed for bedrock-mantle', async (t) => {
  const mantle = await BedrockMock.start([GATEWAY_CREDS], { service: 'bedrock-mantle' });
  t.teardown(() => mantle.close());
  const { mock, gw } = await startBedrock(t, { requireKeys: true, filtersYaml: FILTERS, providerYaml: `    messages_endpoint: mantle\n    mantle_base_url: ${mantle.url}` });
  const { data, response } = await sdk(gw, 'bearer').beta.messages.countTokens({ ...PARAMS, betas: ['token-counting-2024-11-01'] }).withResponse();
  t.same(data, { input_tokens: COUNT });
  t.equal(mock.requests.length, 0, 'nothing to the Runtime');
  const up = mantle.last!;
  t.equal(up.url, '/anthropic/v1/messages/count_tokens', 'the count_tokens path');
  t.equal(up.accessKeyId, GATEWAY_CREDS.accessKeyId, 'signed for bedrock-mantle (verified by the mock)');
  t.same(JSON.parse(up.body.toString('utf8')), PARAMS, 'the body as sent');
  t.match(up.headers['anthropic-beta'], /token-counting-2024-11-01/, "the SDK's beta header goes on");
  t.notMatch(JSON.stringify(up.headers), new RegExp(WORKSPACE_KEY), "the client's Bearer key is not forwarded");
  const rec = await outcomeFor(response.headers.get('x-request-id')!);
  t.equal(rec.kind, 'auxiliary');
  t.equal(rec.model, MODEL);

  const beta = await call(`${gw.url}/v1/bedrock/anthropic/v1/messages/count_tokens?beta=true`, { headers: { authorization: `Bearer ${WORKSPACE_KEY}` }, body: JSON.stringify(PARAMS) });
  t.same([beta.status, beta.json()], [200, { input_tokens: COUNT }]);
  t.equal(mantle.last!.url, '/anthropic/v1/messages/count_tokens?beta=true', "Claude Code's `?beta=true` kept");
  t.equal(mantle.last!.headers['anthropic-version'], '2023-06-01', 'a client without a version gets the one bedrock-mantle documents');

  mantle.nextError = { status: 400, type: 'invalid_request_error', message: 'messages: Field required' };
  const refused = await sdk(gw, 'bearer').messages.countTokens(PARAMS).catch((e: unknown) => e);
  t.type(refused, Anthropic.BadRequestError, "bedrock-mantle's own Anthropic error passes");
  t.match((refused as InstanceType<typeof Anthropic.APIError>).error, { type: 'error', error: { type: 'invalid_request_error', message: 'messages: Field required' } });
});
