/**
 * `temperature_zero` reads the temperature where each dialect asks for it: Gemini's
 * `generationConfig`, Bedrock Converse's `inferenceConfig` (and InvokeModel's model bodies),
 * the top level elsewhere. Before, only a top-level `temperature` counted, so temperature 0
 * never cached on Gemini or Converse.
 */
import t from 'tap';
import { asksTemperatureZero } from '../../../filters/cache/temperature.js';
import { startGateway } from '../../helpers/gateway.js';
import { GeminiMock } from '../../mocks/gemini-mock.js';
import { ScriptedUpstream } from '../../proof/support/upstream.js';

const GKEY = 'gemini-gateway-key-000000000000';

t.test('asksTemperatureZero, by dialect', async (t) => {
  const rows: Array<[string, Record<string, unknown>, boolean]> = [
    ['anthropic', { temperature: 0 }, true],
    ['anthropic', { temperature: 0.2 }, false],
    ['anthropic', {}, false],
    ['openai', { temperature: 0 }, true],
    ['a-plugin', { temperature: 0 }, true],
    ['openai', { generationConfig: { temperature: 0 } }, false],
    ['gemini', { generationConfig: { temperature: 0 } }, true],
    ['gemini', { generationConfig: { temperature: 1 } }, false],
    ['gemini', { generationConfig: { maxOutputTokens: 9 } }, false],
    ['gemini', { generationConfig: null }, false],
    ['gemini', { generationConfig: [0] }, false],
    ['gemini', { temperature: 0 }, false],
    ['bedrock', { inferenceConfig: { temperature: 0 } }, true],
    ['bedrock', { inferenceConfig: { temperature: 0.5 } }, false],
    ['bedrock', { temperature: 0, max_tokens: 9, anthropic_version: 'bedrock-2023-05-31' }, true],
    ['bedrock', { textGenerationConfig: { temperature: 0 } }, true],
    ['bedrock', { temperature: 0, inferenceConfig: { temperature: 0.7 } }, false],
    ['bedrock', { inferenceConfig: { maxTokens: 9 } }, false],
  ];
  for (const [dialect, body, want] of rows) t.equal(asksTemperatureZero(dialect, body), want, `${dialect} ${JSON.stringify(body)}`);
});

t.test('Gemini: generationConfig.temperature 0 is cacheable', async (t) => {
  const mock = await GeminiMock.start(GKEY);
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `providers:\n  gemini: { api_key: ${GKEY}, base_url: ${mock.url} }\nfilters:\n  - name: auth\n  - name: cache\nworkspaces:\n  ws-1: { user: alice }\n`);
  const send = async (temperature: number) => {
    const res = await fetch(`${gw.url}/v1/gemini/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1' }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { temperature } }) });
    await res.text();
    return res.headers.get('x-cache');
  };
  t.equal(await send(0), 'MISS', 'takes part');
  t.equal(await send(0), 'HIT');
  t.equal(await send(0.7), null, 'another temperature does not');
  t.equal(mock.requests.length, 2);
});

t.test('Bedrock Converse: inferenceConfig.temperature 0 is cacheable', async (t) => {
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  const gw = await startGateway(t, `providers:
  bedrock: { region: us-east-1, base_url: "${up.url}", credentials: static, access_key_id: AKIAEXAMPLE000000001, secret_access_key: secretsecretsecretsecretsecretsecret00 }
filters:
  - name: auth
  - name: cache
workspaces:
  ws-1: { user: alice }
`);
  const send = async (temperature: number) => {
    const res = await fetch(`${gw.url}/v1/bedrock/model/anthropic.claude-3-haiku-20240307-v1:0/converse`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1' }, body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }], inferenceConfig: { temperature } }) });
    await res.text();
    return res.headers.get('x-cache');
  };
  t.equal(await send(0), 'MISS', 'takes part');
  t.equal(await send(0), 'HIT');
  t.equal(await send(1), null, 'another temperature does not');
  t.equal(up.seen.length, 2);
});
