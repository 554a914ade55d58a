/**
 * `POST /v1/batches` creates a batch whose requests sit in an uploaded file. It stays
 * auxiliary (its tokens are known only when it ends), and inspect marks it (`ctx.batch`)
 * when its `endpoint` generates, wherever the path mapping sends a client there, so a
 * validator restricting models can refuse what it cannot see. Other batch calls pass.
 */
import t from 'tap';
import { raw } from '../../helpers/anthropic.js';
import { startGateway } from '../../helpers/gateway.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../../helpers/outcome-recorder.js';
import { OpenAIMock } from '../../mocks/openai-mock.js';

const H = { 'content-type': 'application/json' };
const chatBatch = JSON.stringify({ input_file_id: 'file-abc', endpoint: '/v1/chat/completions', completion_window: '24h' });

t.test('a batch create is auxiliary and forwarded as sent when no rule reads it', async (t) => {
  const mock = await OpenAIMock.start({ apiKey: 'k' });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `providers:\n  openai: { api_key: k, base_url: "${mock.url}" }\nfilters:\n  - name: recorder\n    plugin: ${OUTCOME_RECORDER_PATH}\n`);
  const res = await raw(gw.url, 'POST', '/v1/openai/v1/batches', H, chatBatch);
  t.equal(res.status, 200);
  t.equal(mock.last?.body.toString(), chatBatch, 'byte for byte');
  const rec = await outcomeFor(String(res.headers['x-request-id']));
  t.equal(rec.kind, 'auxiliary');
  t.same(rec.outcome.usage, { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 });
  t.equal((await raw(gw.url, 'POST', '/v1/openai/v1/batches', H, '{"input_file_id": ')).status, 400, 'a body that is no JSON still goes to the upstream to judge');
  t.equal(mock.requests.length, 2, '(the upstream answered)');
});

t.test('under a model allowlist: every path to the batch create is refused; other batch calls pass', async (t) => {
  const mock = await OpenAIMock.start({ apiKey: 'k' });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `providers:
  openai: { api_key: k, base_url: "${mock.url}" }
filters:
  - name: validator
    config: { models: ["gpt-4o-mini"] }
`);
  for (const path of ['/v1/openai/v1/batches', '/v1/openai/batches', '/v1/openai/v1/batches/', '/v1/openai/v1/%62atches']) {
    const res = await raw(gw.url, 'POST', path, H, chatBatch);
    t.equal(res.status, 403, `${path}: refused`);
    t.match(JSON.parse(res.body.toString()).error.message, /models allowed for this gateway; send them as single requests instead$/, `${path}: saying why`);
  }
  t.equal((await raw(gw.url, 'POST', '/v1/openai/v1/batches', H, '{"input_file_id": ')).status, 403, 'a body that is no JSON: refused too, it could name a generating endpoint');
  t.equal(mock.requests.length, 0, 'none reached OpenAI');
  await raw(gw.url, 'POST', '/v1/openai/v1/batches/batch_01/cancel', H, '');
  await raw(gw.url, 'GET', '/v1/openai/v1/batches/batch_01', H);
  t.equal(mock.requests.length, 2, 'cancel and get are forwarded');
});
