/**
 * One Bedrock model, many spellings: its base id, a cross-region inference profile
 * (`us.`, `eu.`, `apac.`, `global.` …), the ARN of that profile or of the foundation model,
 * each URL-encoded in the path. An allowlist entry and a price for the base id cover them
 * all; they covered the base id alone, so a client naming the `us.` profile of an allowed
 * model was refused and an allowed model's profile went unpriced (no cost, no budget hold).
 * Read by structure: an ARN or profile of another model, an application inference
 * profile, a custom model and an unknown prefix keep to their own spelling.
 */
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { IDENTITY_PLUGIN } from '../../helpers/rate-limit.js';
import { auditLines, waitFor } from '../../filters/fixtures.js';
import { json, ScriptedUpstream } from '../../proof/support/upstream.js';
import { baseModelId } from '../../../providers/bedrock/model-id.js';

const BASE = 'meta.llama3-1-70b-instruct-v1:0';
const OTHER = 'meta.llama3-1-8b-instruct-v1:0';
const ACCOUNT = '123456789012';

const upstream = await ScriptedUpstream.start();
t.teardown(() => upstream.close());
const gw = await startGateway(t, JSON.stringify({
  providers: { bedrock: { region: 'us-east-1', base_url: upstream.url, access_key_id: 'AKIAMODELIDS00000001', secret_access_key: 'modelIdsSecret/0000000000000' } },
  filters: [
    { name: 'identity', plugin: IDENTITY_PLUGIN },
    { name: 'cost' },
    { name: 'validator', config: { models: [BASE] } },
    { name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } },
  ],
  // Not in the shipped price file: priced here by its base id alone.
  pricing: { providers: { bedrock: { models: { [BASE]: { input: 1, output: 2 } } } } },
}));

async function invoke(modelId: string) {
  const res = await fetch(`${gw.url}/v1/bedrock/model/${encodeURIComponent(modelId)}/invoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user': 'ids' },
    body: JSON.stringify({ prompt: 'hi', max_gen_len: 16 }),
  });
  return { status: res.status, text: await res.text(), id: res.headers.get('x-request-id')! };
}

async function auditFor(requestId: string): Promise<Record<string, unknown>> {
  const file = path.join(gw.dir, 'audit.log');
  await waitFor(() => auditLines(file).some((l) => l.request_id === requestId));
  return auditLines(file).find((l) => l.request_id === requestId)!;
}

const SPELLINGS = [
  BASE,
  `us.${BASE}`,
  `eu.${BASE}`,
  `apac.${BASE}`,
  `global.${BASE}`,
  `arn:aws:bedrock:us-east-1:${ACCOUNT}:inference-profile/us.${BASE}`,
  `arn:aws:bedrock:eu-west-1:${ACCOUNT}:inference-profile/eu.${BASE}`,
  `arn:aws:bedrock:us-east-1::foundation-model/${BASE}`,
  `arn:aws-us-gov:bedrock:us-gov-west-1:${ACCOUNT}:inference-profile/us-gov.${BASE}`,
];

t.test('every spelling of an allowed model is allowed, priced by its base id, and audited as written', async (t) => {
  for (const spelling of SPELLINGS) {
    const res = await invoke(spelling);
    t.equal(res.status, 200, spelling);
    t.equal(upstream.seen.at(-1)!.url, `/model/${encodeURIComponent(spelling)}/invoke`, `${spelling}: forwarded as sent`);
    const line = await auditFor(res.id);
    t.equal(line.model, spelling, `${spelling}: the audit line names what the client sent`);
    t.ok(Math.abs(Number(line.cost_usd) - (10 * 1 + 5 * 2) / 1e6) < 1e-12, `${spelling}: priced at the base id's price (${String(line.cost_usd)})`);
  }
});

t.test('another model, or a reference that names no model, keeps to its own spelling', async (t) => {
  const before = upstream.seen.length;
  for (const spelling of [
    OTHER,
    `us.${OTHER}`,
    `arn:aws:bedrock:us-east-1:${ACCOUNT}:inference-profile/us.${OTHER}`,
    `arn:aws:bedrock:us-east-1::foundation-model/${OTHER}`,
    `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/${BASE}`,
    `arn:aws:bedrock:us-east-1:${ACCOUNT}:custom-model/${BASE}/a1b2c3`,
    `arn:aws:bedrock:us-east-1:${ACCOUNT}:provisioned-model/${BASE}`,
    `xx.${BASE}`,
    `us.us.${BASE}`,
  ]) {
    const res = await invoke(spelling);
    t.equal(res.status, 403, spelling);
  }
  t.equal(upstream.seen.length, before, 'none forwarded');
});

t.test('StartAsyncInvoke: its modelId is judged by its base id too', async (t) => {
  const start = async (modelId: string) => {
    const res = await fetch(`${gw.url}/v1/bedrock/async-invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'ids' },
      body: JSON.stringify({ modelId, modelInput: { prompt: 'hi' }, outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://bucket/out' } } }),
    });
    await res.text();
    return res.status;
  };
  upstream.script.push((_req, res) => json(res, 200, { invocationArn: 'arn:aws:bedrock:us-east-1:123456789012:async-invoke/abc' }));
  t.equal(await start(`arn:aws:bedrock:us-east-1:${ACCOUNT}:inference-profile/us.${BASE}`), 200, 'an allowed model by its profile ARN');
  t.equal(await start(`us.${OTHER}`), 403, 'another model by its profile');
});

t.test('baseModelId', async (t) => {
  t.equal(baseModelId(BASE), undefined, 'a base id is its own');
  t.equal(baseModelId(`jp.anthropic.claude-sonnet-4-5-20250929-v1:0`), 'anthropic.claude-sonnet-4-5-20250929-v1:0');
  t.equal(baseModelId(`au.${BASE}`), BASE);
  t.equal(baseModelId(`arn:aws:bedrock:us-east-1:${ACCOUNT}:inference-profile/global.${BASE}`), BASE);
  t.equal(baseModelId(`arn:aws:bedrock:us-east-1:${ACCOUNT}:inference-profile/us.${BASE}/x`), undefined, 'an ARN with more after the id');
  t.equal(baseModelId(`arn:aws:s3:::bucket/us.${BASE}`), undefined, 'not a Bedrock ARN');
  t.equal(baseModelId(`prefix-arn:aws:bedrock:us-east-1:${ACCOUNT}:inference-profile/us.${BASE}`), undefined, 'anchored');
  t.equal(baseModelId('us.'), undefined);
  t.equal(baseModelId('us.claude'), undefined, 'a prefix before something that is no provider.model id');
});

t.test('the unified endpoint: a profile of an allowed model is allowed and priced by its base id', async (t) => {
  const converse: (typeof upstream.script)[number] = (_req, res) =>
    json(res, 200, { output: { message: { role: 'assistant', content: [{ text: 'hi' }] } }, stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } });
  const chat = async (model: string) => {
    upstream.script.push(converse);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'ids' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 }),
    });
    return { status: res.status, text: await res.text(), id: res.headers.get('x-request-id')! };
  };
  for (const spelling of [`us.${BASE}`, `arn:aws:bedrock:us-east-1:${ACCOUNT}:inference-profile/global.${BASE}`]) {
    const res = await chat(spelling);
    t.equal(res.status, 200, `${spelling}: ${res.text}`);
    const line = await auditFor(res.id);
    t.equal(line.model, spelling);
    t.ok(Math.abs(Number(line.cost_usd) - (10 * 1 + 5 * 2) / 1e6) < 1e-12, `${spelling}: priced at the base id's price (${String(line.cost_usd)})`);
    t.notOk(line.price_missing, spelling);
  }
  upstream.script.length = 0;
  t.equal((await chat(`us.${OTHER}`)).status, 403, 'another model by its profile');
});
