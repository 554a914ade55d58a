/**
 * Bedrock's StartAsyncInvoke (`POST /async-invoke`, `{ modelId, modelInput, outputDataConfig }`)
 * submits one generation to run later. It stays auxiliary, but the validator holds it to the
 * rules an InvokeModel of `modelInput` on `modelId` would meet: the model allowlists (the id
 * as written or the base model id a profile or ARN names, as an InvokeModel path's is), the caps of the model's body (clamped in place
 * when so configured) and the prompt limits, refused in Bedrock's shape naming the field.
 */
import t from 'tap';
import { AccessDeniedException, StartAsyncInvokeCommand, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { call } from '../../helpers/http.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';
import { PROFILE_ARN, SONNET, WORKSPACE, sdkClient, startBedrock } from '../../helpers/bedrock.js';

const headers = { 'x-workspace-id': WORKSPACE, 'content-type': 'application/json' };
const output = { s3OutputDataConfig: { s3Uri: 's3://bucket/out/' } };
const claude = (extra: Record<string, unknown> = {}) => ({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }], ...extra });
const start = (modelId: string, modelInput: Record<string, unknown>) => JSON.stringify({ clientRequestToken: 'tok-0001', modelId, modelInput, outputDataConfig: output });

function validator(config: string): string {
  return `  - name: validator\n    config: ${config}`;
}

t.test('the model id against the allowlists and the body against the cap, in Bedrock\'s shape', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { filtersYaml: validator('{ models: ["anthropic.claude-3-haiku-*", "amazon.nova-reel-*"], max_tokens: 1024 }') });
  const url = `${endpoint}/async-invoke`;
  const sonnet = await call(url, { headers, body: start(SONNET, claude()) });
  t.equal(sonnet.status, 403, 'a model outside the allowlist');
  t.equal(sonnet.headers['x-amzn-errortype'], 'AccessDeniedException');
  t.equal(sonnet.json<{ message: string }>().message, `modelId: "${SONNET}" is not allowed for this gateway`);
  const profile = await call(url, { headers, body: start(`arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.${SONNET}`, claude()) });
  t.equal(profile.status, 403, "an ARN of a profile of that model too");

  const cap = await call(url, { headers, body: start('anthropic.claude-3-haiku-20240307-v1:0', claude({ max_tokens: 64000 })) });
  t.equal(cap.status, 400, 'a cap above the maximum');
  t.equal(cap.headers['x-amzn-errortype'], 'ValidationException');
  t.equal(cap.json<{ message: string }>().message, 'modelInput.max_tokens: 64000 is above the maximum of 1024');
  const titan = await call(url, { headers, body: start('anthropic.claude-3-haiku-20240307-v1:0', { inputText: 'hi', textGenerationConfig: { maxTokenCount: 5000 } }) });
  t.equal(titan.json<{ message: string }>().message, 'modelInput.textGenerationConfig.maxTokenCount: 5000 is above the maximum of 1024', "every cap field InvokeModel's are judged by");
  t.equal(mock.requests.length, 0, 'nothing reached Bedrock');

  const reel = start('amazon.nova-reel-v1:1', { taskType: 'TEXT_VIDEO', textToVideoParams: { text: 'a cat' }, videoGenerationConfig: { durationSeconds: 6, fps: 24, dimension: '1280x720' } });
  const ok = await call(url, { headers, body: reel });
  t.equal(ok.status, 200, 'an allowed model with no cap over the maximum');
  t.equal(mock.last?.body.toString(), reel, 'forwarded byte for byte, signed by the gateway (the mock checked)');
  const rec = await outcomeFor(String(ok.headers['x-request-id']));
  t.equal(rec.kind, 'auxiliary', 'still auxiliary: no tokens counted');
  t.equal(rec.model, 'amazon.nova-reel-v1:1', 'the audit line names the model');
  await call(`${endpoint}/async-invoke?maxResults=10`, { headers: { 'x-workspace-id': WORKSPACE } });
  t.equal(mock.last?.method, 'GET', 'listing invocations is forwarded');
  const allowedProfile = await call(url, { headers, body: start(PROFILE_ARN, claude()) });
  t.equal(allowedProfile.status, 200, "an allowed model's profile ARN: its base id is on the list");
});

t.test('the real SDK: refused with its own exception classes, clamped in place', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { filtersYaml: validator('{ models: ["anthropic.*"], max_tokens: 1024, max_tokens_action: clamp, max_prompt_chars: 1000 }') });
  const client = sdkClient(t, endpoint, 'h1');
  const send = (modelId: string, modelInput: Record<string, unknown>) => client.send(new StartAsyncInvokeCommand({ modelId, modelInput: modelInput as never, outputDataConfig: output }));
  const denied = await send('meta.llama3-70b-instruct-v1:0', { prompt: 'hi' }).catch((err: unknown) => err);
  t.ok(denied instanceof AccessDeniedException, 'AccessDeniedException');
  const long = await send(SONNET, claude({ system: 's'.repeat(1000) })).catch((err: unknown) => err);
  t.ok(long instanceof ValidationException, 'ValidationException for a prompt over the limit');
  t.equal((long as Error).message, 'modelInput.messages: the prompt is 1005 characters, above the maximum of 1000');
  t.equal(mock.requests.length, 0);

  const res = await send(SONNET, claude({ max_tokens: 8000, system: 'Résumé ✓' }));
  t.equal(res.invocationArn, 'arn:aws:bedrock:us-east-1:123456789012:async-invoke/mock01');
  const forwarded = JSON.parse(mock.last!.body.toString()) as { modelId: string; modelInput: Record<string, unknown> };
  t.equal(forwarded.modelInput.max_tokens, 1024, 'the cap lowered in the body Bedrock got (its signature checked by the mock)');
  t.same(forwarded.modelInput, claude({ max_tokens: 1024, system: 'Résumé ✓' }), 'the rest as sent');
  t.equal(forwarded.modelId, SONNET);
});

t.test('without rules that read it, a StartAsyncInvoke is forwarded as sent', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { filtersYaml: validator('{ max_body_bytes: 100000 }') });
  const body = start(SONNET, claude({ max_tokens: 64000 }));
  const res = await call(`${endpoint}/async-invoke`, { headers, body });
  t.equal(res.status, 200);
  t.equal(mock.last?.body.toString(), body);
});
