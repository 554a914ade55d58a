/**
 * `anthropic_betas.models`: a model's own beta list, used instead of `allow`. Claude Opus 4.7
 * on Bedrock takes only `interleaved-thinking-2025-05-14` (anthropics/claude-code#49370) while
 * older models take more. Keyed by the base model id, which a cross-region profile or an ARN
 * resolves to; a model not listed uses `allow`, or gets every beta when there is no `allow`.
 */
import t from 'tap';
import { postWithBetas as post, sent, countedBody } from '../../helpers/bedrock-betas.js';
import { SONNET, startBedrock } from '../../helpers/bedrock.js';

const THINKING = 'interleaved-thinking-2025-05-14';
const CONTEXT_1M = 'context-1m-2025-08-07';
const OPUS_47 = 'anthropic.claude-opus-4-7';
const OPUS_46_PROFILE = 'global.anthropic.claude-opus-4-6-v1';
const PROFILE_ARN = `arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.${OPUS_47}`;
const APP_PROFILE_ARN = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6';

const PROVIDER_YAML = `    anthropic_betas:
      allow: [${THINKING}, ${CONTEXT_1M}]
      models:
        ${OPUS_47}: [${THINKING}]`;

/** What Claude Code sends: betas Bedrock refuses beside ones some models take. */
const BETAS = [THINKING, CONTEXT_1M, 'claude-code-20250219'];
const HEADER = BETAS.join(',');

const invokeBody = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }], anthropic_beta: BETAS });
const converseBody = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hello' }] }], additionalModelRequestFields: { anthropic_beta: BETAS } });
const messagesBody = (model: string): string => JSON.stringify({ model, max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }], anthropic_beta: BETAS });

function model(id: string, op: string): string {
  return `/model/${encodeURIComponent(id)}/${op}`;
}

t.test("a listed model gets its own list, through a global. profile, a profile ARN and the body's model", async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  for (const op of ['invoke', 'invoke-with-response-stream']) {
    for (const id of [`global.${OPUS_47}`, PROFILE_ARN, OPUS_47]) {
      const res = await post(endpoint + model(id, op), invokeBody, HEADER);
      t.equal(res.status, 200, `${op} ${id}: served`);
      t.same(sent(mock.last!).anthropic_beta, [THINKING], `${op} ${id}: the body keeps Opus 4.7's one beta`);
      t.equal(mock.last!.headers['anthropic-beta'], THINKING, `${op} ${id}: and the header`);
    }
  }
  for (const op of ['converse', 'converse-stream']) {
    await post(endpoint + model(PROFILE_ARN, op), converseBody);
    t.same(sent(mock.last!).additionalModelRequestFields, { anthropic_beta: [THINKING] }, `${op} by ARN`);
  }
  await post(`${endpoint}/anthropic/v1/messages`, messagesBody(`us.${OPUS_47}`), HEADER);
  t.same(sent(mock.last!).anthropic_beta, [THINKING], '/anthropic/v1/messages: the body');
  t.equal(mock.last!.headers['anthropic-beta'], THINKING, '/anthropic/v1/messages: the header');
  await post(`${endpoint}/anthropic/v1/messages/count_tokens`, messagesBody(`global.${OPUS_47}`), HEADER);
  t.same(countedBody(mock.last!).anthropic_beta, [THINKING], 'count_tokens');
  await post(`${endpoint}/invoke`, JSON.stringify({ model_id: `eu.${OPUS_47}`, body: JSON.parse(invokeBody) as unknown }));
  t.same(sent(mock.last!).anthropic_beta, [THINKING], "the gateway's /invoke");
});

t.test('a model not listed falls back to allow', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  for (const id of [OPUS_46_PROFILE, SONNET, APP_PROFILE_ARN]) {
    await post(endpoint + model(id, 'invoke'), invokeBody, HEADER);
    t.same(sent(mock.last!).anthropic_beta, [THINKING, CONTEXT_1M], `${id}: allow's two`);
    t.equal(mock.last!.headers['anthropic-beta'], `${THINKING},${CONTEXT_1M}`, `${id}: the header too`);
    await post(endpoint + model(id, 'converse'), converseBody);
    t.same(sent(mock.last!).additionalModelRequestFields, { anthropic_beta: [THINKING, CONTEXT_1M] }, `${id}: Converse too`);
  }
  await post(`${endpoint}/anthropic/v1/messages`, messagesBody(OPUS_46_PROFILE), HEADER);
  t.same(sent(mock.last!).anthropic_beta, [THINKING, CONTEXT_1M], '/anthropic/v1/messages');
});

t.test('models without allow: only the listed models are filtered, the others get every beta byte for byte', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: `    anthropic_betas:\n      models:\n        ${OPUS_47}: [${THINKING}]` });
  await post(endpoint + model(`global.${OPUS_47}`, 'invoke'), invokeBody, HEADER);
  t.same(sent(mock.last!).anthropic_beta, [THINKING], 'Opus 4.7 filtered');
  t.equal(mock.last!.headers['anthropic-beta'], THINKING);
  for (const op of ['invoke', 'converse']) {
    const body = op === 'invoke' ? invokeBody : converseBody;
    await post(endpoint + model(OPUS_46_PROFILE, op), body, HEADER);
    t.equal(mock.last!.body.toString('utf8'), body, `${op}: another model's body as sent`);
    t.equal(mock.last!.headers['anthropic-beta'], HEADER, `${op}: and its header`);
  }
});

t.test("a key may be written as a profile; an application profile's ARN is matched as written", async (t) => {
  const { mock, endpoint } = await startBedrock(t, {
    providerYaml: `    anthropic_betas:\n      allow: [${THINKING}, ${CONTEXT_1M}]\n      models:\n        global.${OPUS_47}: []\n        "${APP_PROFILE_ARN}": [${CONTEXT_1M}]`,
  });
  for (const id of [`us.${OPUS_47}`, OPUS_47]) {
    await post(endpoint + model(id, 'invoke'), invokeBody, HEADER);
    t.notOk('anthropic_beta' in sent(mock.last!), `${id}: an empty list drops every beta`);
    t.equal(mock.last!.headers['anthropic-beta'], undefined, `${id}: no header`);
  }
  await post(endpoint + model(APP_PROFILE_ARN, 'invoke'), invokeBody);
  t.same(sent(mock.last!).anthropic_beta, [CONTEXT_1M], 'the application profile: its own list');
});

t.test('the config schema checks models', async (t) => {
  await t.rejects(startBedrock(t, { providerYaml: '    anthropic_betas: {}' }), 'allow or models is required');
  await t.rejects(startBedrock(t, { providerYaml: `    anthropic_betas:\n      models:\n        ${OPUS_47}: ["a,b"]` }), 'a beta with a comma');
  await t.rejects(startBedrock(t, { providerYaml: `    anthropic_betas:\n      models:\n        ${OPUS_47}: ${THINKING}` }), 'a list, not a string');
  await t.rejects(startBedrock(t, { providerYaml: `    anthropic_betas:\n      models:\n        "an id": []` }), 'a key with a space');
  await t.rejects(
    startBedrock(t, { providerYaml: `    anthropic_betas:\n      models:\n        ${OPUS_47}: []\n        global.${OPUS_47}: [${THINKING}]` }),
    /name the same model/,
    'two keys for one model',
  );
});
