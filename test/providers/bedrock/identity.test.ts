import { readFileSync, writeFileSync } from 'node:fs';
import {
  AccessDeniedException,
  BedrockRuntimeServiceException,
  ConverseCommand,
  InvokeModelCommand,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import t from 'tap';
import { makeWorkspaceKey } from '../../../filters/auth/keys.js';
import { call } from '../../helpers/http.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { anthropicBody, GATEWAY_CREDS, KEY_SECRET, SONNET, WORKSPACE, WORKSPACE_KEY, sdkClient, startBedrock } from '../../helpers/bedrock.js';

const invoke = new InvokeModelCommand({ modelId: SONNET, body: anthropicBody() });

/** The rejection `promise` ends in, for class and status checks. */
async function rejection(promise: Promise<unknown>): Promise<BedrockRuntimeServiceException> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BedrockRuntimeServiceException)) throw new Error(`expected a service exception, got ${String(err)}`);
  return err;
}

t.test('SigV4 workspace credentials: a forged or foreign signature is refused with 403 before any upstream call', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  for (const [name, secretAccessKey] of [
    ['a forged secret', `${WORKSPACE_KEY.slice(0, -2)}xx`],
    ['a real-looking AWS secret', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'],
  ] as const) {
    for (const transport of ['h2', 'h1'] as const) {
      const client = sdkClient(t, endpoint, transport, { credentials: { accessKeyId: WORKSPACE, secretAccessKey } });
      const err = await rejection(client.send(invoke));
      t.equal(err.name, 'InvalidSignatureException', `${name} over ${transport}: the SDK raises InvalidSignatureException`);
      t.equal(err.$metadata.httpStatusCode, 403, `${name} over ${transport}: 403`);
      t.match(err.message, /signature/i, `${name} over ${transport}: says why`);
    }
  }
  t.equal(mock.requests.length, 0, 'nothing reached Bedrock');
});

t.test('an access key id longer than AWS issues (128 characters) is an InvalidSignatureException, even signed right', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  const id = `ws-${'a'.repeat(200)}`;
  const client = sdkClient(t, endpoint, 'h1', { credentials: { accessKeyId: id, secretAccessKey: makeWorkspaceKey(KEY_SECRET, id) } });
  const err = await rejection(client.send(invoke));
  t.equal(err.name, 'InvalidSignatureException');
  t.equal(err.$metadata.httpStatusCode, 403);
  t.match(err.message, /128 characters/);
  t.equal(mock.requests.length, 0, 'nothing reached Bedrock');
});

t.test('a correctly signed request for a workspace the gateway does not know is AccessDeniedException', async (t) => {
  const { endpoint } = await startBedrock(t);
  const client = sdkClient(t, endpoint, 'h2', { credentials: { accessKeyId: 'ws-unknown', secretAccessKey: makeWorkspaceKey(KEY_SECRET, 'ws-unknown') } });
  const err = await rejection(client.send(invoke));
  t.ok(err instanceof AccessDeniedException, 'the modeled class');
  t.equal(err.$metadata.httpStatusCode, 403);
  t.match(err.message, /ws-unknown/);
});

t.test('the workspace key as a Bedrock API key (Authorization: Bearer, AWS_BEARER_TOKEN_BEDROCK)', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  const client = sdkClient(t, endpoint, 'h2', { token: { token: WORKSPACE_KEY }, authSchemePreference: ['httpBearerAuth'] });
  let id = '';
  client.middlewareStack.add((next) => async (args) => {
    const out = await next(args);
    id = (out.response as { headers: Record<string, string> }).headers['x-request-id'] ?? '';
    return out;
  }, { step: 'deserialize' });
  const res = await client.send(new ConverseCommand({ modelId: SONNET, messages: [{ role: 'user', content: [{ text: 'Hi' }] }] }));
  t.ok(res.output?.message, 'answered');
  t.match(mock.last?.headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIAGATEWAYEXAMPLE01\//, 'the bearer token was replaced by the gateway signature');
  t.equal(mock.last?.accessKeyId, GATEWAY_CREDS.accessKeyId);
  const rec = await outcomeFor(id);
  t.same([rec.identity?.workspace, rec.identity?.source], [WORKSPACE, 'key']);

  const bad = sdkClient(t, endpoint, 'h1', { token: { token: `${WORKSPACE_KEY}x` }, authSchemePreference: ['httpBearerAuth'] });
  const err = await rejection(bad.send(invoke));
  t.equal(err.name, 'UnrecognizedClientException', 'a bad key: AWS\'s 403 for an unknown credential');
  t.equal(err.$metadata.httpStatusCode, 403);
});

t.test('X-Workspace-ID alone still works for unsigned clients (curl, CLAUDE_CODE_SKIP_BEDROCK_AUTH)', async (t) => {
  const { mock, endpoint } = await startBedrock(t);
  const res = await call(`${endpoint}/model/${encodeURIComponent(SONNET)}/invoke`, { headers: { 'x-workspace-id': WORKSPACE }, body: anthropicBody() });
  t.equal(res.status, 200);
  t.equal(mock.last?.accessKeyId, GATEWAY_CREDS.accessKeyId);
  t.notOk(mock.last?.headers['x-workspace-id'], 'the identity header is not forwarded');
  t.equal((await outcomeFor(String(res.headers['x-request-id']))).identity?.source, 'header');
  const missing = await call(`${endpoint}/model/${encodeURIComponent(SONNET)}/invoke`, { body: anthropicBody() });
  t.equal(missing.status, 403, 'no identity at all: 403, as AWS answers a request without credentials');
  t.equal(missing.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException');
  t.same(missing.json(), { message: missing.json().message }, 'Bedrock error body: {"message"} only');
  t.ok(missing.headers['x-amzn-requestid'], 'x-amzn-requestid set');
});

t.test('gateway rejections raise the SDK classes: rate limit, validation, unconfigured', async (t) => {
  const { endpoint } = await startBedrock(t, {
    filtersYaml: ['  - name: rate-limit', '  - name: validator', '    config:', '      max_tokens: 1000'].join('\n'),
  });
  const client = sdkClient(t, endpoint, 'h2');
  const tooMany = await rejection(client.send(new InvokeModelCommand({ modelId: SONNET, body: anthropicBody({ max_tokens: 5000 }) })));
  t.ok(tooMany instanceof ValidationException, 'max_tokens over the limit: ValidationException');
  t.equal(tooMany.$metadata.httpStatusCode, 400);
  t.match(tooMany.message, /max_tokens/);

  const unconfigured = await startBedrock(t, { credentials: null, providerYaml: '    credentials: static' });
  const err = await rejection(sdkClient(t, unconfigured.endpoint, 'h1').send(invoke));
  t.ok(err instanceof ServiceUnavailableException, 'no gateway credentials: ServiceUnavailableException');
  t.equal(err.$metadata.httpStatusCode, 503);
  t.match(err.message, /not configured/);
});

t.test('the rate limiter answers ThrottlingException with retry-after', async (t) => {
  const { endpoint } = await startBedrock(t, { filtersYaml: '  - name: rate-limit', extraYaml: 'rate_limits:\n  default:\n    requests_per_minute: 2' });
  const client = sdkClient(t, endpoint, 'h1');
  await client.send(invoke);
  await client.send(invoke);
  const err = await rejection(client.send(invoke));
  t.ok(err instanceof ThrottlingException, 'the third request in a minute: ThrottlingException');
  t.equal(err.$metadata.httpStatusCode, 429);
  const raw = await call(`${endpoint}/model/${encodeURIComponent(SONNET)}/invoke`, { headers: { 'x-workspace-id': WORKSPACE }, body: anthropicBody() });
  t.equal(raw.status, 429);
  t.equal(raw.headers['x-amzn-errortype'], 'ThrottlingException');
  t.match(raw.headers['retry-after'], /^\d+$/, 'retry-after in seconds');
});

t.test('SigV4 keeps working request after request, and a new key_secret by reload refuses the old signing key', async (t) => {
  const { gw, endpoint } = await startBedrock(t);
  const client = sdkClient(t, endpoint, 'h1', { credentials: { accessKeyId: WORKSPACE, secretAccessKey: WORKSPACE_KEY } });
  for (let i = 0; i < 3; i++) t.ok(await client.send(invoke), `signed request ${i + 1} admitted`);

  const rotated = 'a-rotated-key-secret-0123456789';
  writeFileSync(gw.configPath, readFileSync(gw.configPath, 'utf8').replace(KEY_SECRET, rotated));
  const r = await gw.gateway.reload();
  t.ok(r.ok && r.changed, 'reloaded with the new secret');
  const err = await rejection(client.send(invoke));
  t.equal(err.name, 'InvalidSignatureException', 'the old workspace key no longer signs');
  const renewed = sdkClient(t, endpoint, 'h1', { credentials: { accessKeyId: WORKSPACE, secretAccessKey: makeWorkspaceKey(rotated, WORKSPACE) } });
  t.ok(await renewed.send(invoke), 'the key derived from the new secret signs');
});
