/**
 * `temperature_zero` reads the temperature where each dialect says its API puts it
 * (`Dialect.temperaturePaths`): Gemini's `generationConfig`, Bedrock Converse's
 * `inferenceConfig` (and InvokeModel's model bodies), a plugin's own place, the top level
 * when a dialect names none. Before, only a top-level `temperature` counted, so temperature
 * 0 never cached on Gemini or Converse; then a table by dialect *name* knew Gemini's and
 * Bedrock's places, and a plugin's dialect (or one renamed) fell back to the top level.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { plainDialect, type Dialect } from '../../../core/index.js';
import { anthropicDialect } from '../../../providers/anthropic/dialect.js';
import { bedrockDialect } from '../../../providers/bedrock/dialect.js';
import { geminiDialect } from '../../../providers/gemini/dialect.js';
import { openaiDialect } from '../../../providers/translate/openai-dialect.js';
import { asksTemperatureZero } from '../../../filters/cache/temperature.js';
import { startGateway } from '../../helpers/gateway.js';
import { repoRoot } from '../../helpers/process.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { GeminiMock } from '../../mocks/gemini-mock.js';
import { ScriptedUpstream } from '../../proof/support/upstream.js';

const GKEY = 'gemini-gateway-key-000000000000';

const aPlugin: Dialect = { ...plainDialect, name: 'a-plugin' };
const deep: Dialect = { ...plainDialect, name: 'deep', temperaturePaths: [['parameters', 'sampling', 'temperature']] };
const renamed: Dialect = { ...geminiDialect, name: 'vertex' };

t.test('asksTemperatureZero, by dialect', async (t) => {
  const rows: Array<[Dialect, Record<string, unknown>, boolean]> = [
    [anthropicDialect, { temperature: 0 }, true],
    [anthropicDialect, { temperature: 0.2 }, false],
    [anthropicDialect, {}, false],
    [openaiDialect, { temperature: 0 }, true],
    [aPlugin, { temperature: 0 }, true],
    [openaiDialect, { generationConfig: { temperature: 0 } }, false],
    [geminiDialect, { generationConfig: { temperature: 0 } }, true],
    [geminiDialect, { generationConfig: { temperature: 1 } }, false],
    [geminiDialect, { generationConfig: { maxOutputTokens: 9 } }, false],
    [geminiDialect, { generationConfig: null }, false],
    [geminiDialect, { generationConfig: [0] }, false],
    [geminiDialect, { temperature: 0 }, false],
    [renamed, { generationConfig: { temperature: 0 } }, true],
    [renamed, { temperature: 0 }, false],
    [bedrockDialect, { inferenceConfig: { temperature: 0 } }, true],
    [bedrockDialect, { inferenceConfig: { temperature: 0.5 } }, false],
    [bedrockDialect, { temperature: 0, max_tokens: 9, anthropic_version: 'bedrock-2023-05-31' }, true],
    [bedrockDialect, { textGenerationConfig: { temperature: 0 } }, true],
    [bedrockDialect, { temperature: 0, inferenceConfig: { temperature: 0.7 } }, false],
    [bedrockDialect, { inferenceConfig: { maxTokens: 9 } }, false],
    [deep, { parameters: { sampling: { temperature: 0 } } }, true],
    [deep, { parameters: { sampling: { temperature: 0.1 } } }, false],
    [deep, { parameters: { sampling: 0 } }, false],
    [deep, { parameters: 'sampling' }, false],
    [deep, { temperature: 0 }, false],
  ];
  for (const [dialect, body, want] of rows) t.equal(asksTemperatureZero(dialect, body), want, `${dialect.name} ${JSON.stringify(body)}`);
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

t.test("a plugin's dialect: the cache reads the temperature where its temperaturePaths say", async (t) => {
  const plugin = path.join(repoRoot, 'test/fixtures/plugins/sampling-provider.js');
  const gw = await startGateway(t, `providers:\n  sampling: { plugin: ${JSON.stringify(plugin)} }\nfilters:\n  - name: auth\n  - name: cache\nworkspaces:\n  ws-1: { user: alice }\n`);
  const send = async (body: Record<string, unknown>) => {
    const res = await fetch(`${gw.url}/v1/sampling/generate`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1' }, body: JSON.stringify({ prompt: 'hi', ...body }) });
    return { status: res.status, cache: res.headers.get('x-cache'), text: await res.text() };
  };
  const first = await send({ parameters: { sampling: { temperature: 0 } } });
  t.equal(first.status, 200, first.text);
  t.equal(first.cache, 'MISS', 'temperature 0 where the dialect puts it takes part');
  const again = await send({ parameters: { sampling: { temperature: 0 } } });
  t.equal(again.cache, 'HIT');
  t.equal(again.text, first.text, 'the first answer, replayed');
  t.equal((await send({ parameters: { sampling: { temperature: 0.8 } } })).cache, null, 'another temperature does not take part');
  t.equal((await send({ temperature: 0, parameters: { sampling: { temperature: 0.8 } } })).cache, null, 'nor does a top-level field this API does not read');
});

t.test('a dialect whose temperaturePaths are not member paths fails the config load, saying what to fix', async (t) => {
  const dir = tempDir('gw-temperature-paths-');
  const plugin = path.join(dir, 'dotted.mjs');
  const source = readFixture().replace("[['parameters', 'sampling', 'temperature']]", "['parameters.sampling.temperature']");
  t.not(source, readFixture(), 'the fixture was rewritten');
  writeFileSync(plugin, source);
  await t.rejects(startGateway(t, `providers:\n  sampling: { plugin: ${JSON.stringify(plugin)} }\n`), /provider "sampling": dialect\.temperaturePaths must be a list of member paths/);
});

function readFixture(): string {
  return readFileSync(path.join(repoRoot, 'test/fixtures/plugins/sampling-provider.js'), 'utf8');
}
