/**
 * `POST /v1/messages/batches` creates a Message Batch: Messages requests run later. It stays
 * auxiliary — no model, cap or tokens are counted now, as with OpenAI's batches — but inspect
 * marks it (`ctx.batch`) wherever the path mapping sends a client there, so the validator
 * sees the requests inside. Other batch calls (list, get, cancel, results) are not marked.
 */
import t from 'tap';
import { raw } from '../../helpers/anthropic.js';
import { startGateway } from '../../helpers/gateway.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../../helpers/outcome-recorder.js';
import { AnthropicMock } from '../../mocks/anthropic-mock.js';

const KEY = 'sk-ant-gateway-0000000000000000';
const H = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
const opus = JSON.stringify({ requests: [0, 1].map((i) => ({ custom_id: `r${i}`, params: { model: 'claude-opus-4-1', max_tokens: 64000, messages: [{ role: 'user', content: 'write a novel' }] } })) });

t.test('a batch create is auxiliary: no model, no cap, no tokens counted', async (t) => {
  const mock = await AnthropicMock.start({ apiKey: KEY });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `providers:\n  anthropic: { api_key: ${KEY}, base_url: "${mock.url}" }\nfilters:\n  - name: recorder\n    plugin: ${OUTCOME_RECORDER_PATH}\n`);
  const res = await raw(gw.url, 'POST', '/v1/claude/v1/messages/batches', H, opus);
  t.equal(res.status, 200);
  t.equal(JSON.parse(res.body.toString()).type, 'message_batch');
  t.ok(mock.last?.body.equals(Buffer.from(opus)), 'forwarded byte for byte');
  const rec = await outcomeFor(String(res.headers['x-request-id']));
  t.equal(rec.kind, 'auxiliary', 'its tokens are known only when the batch ends');
  t.equal(rec.model, undefined);
  t.equal(rec.maxOutputTokens, undefined);
  t.same(rec.outcome.usage, { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 });
});

t.test('every path that reaches the batch create is judged; other batch calls are not', async (t) => {
  const mock = await AnthropicMock.start({ apiKey: KEY });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `providers:
  anthropic: { api_key: ${KEY}, base_url: "${mock.url}" }
filters:
  - name: validator
    config: { models: ["claude-haiku-*"], max_tokens: 1024 }
`);
  for (const path of ['/v1/claude/v1/messages/batches', '/v1/claude/messages/batches', '/v1/claude/v1/messages/batches/', '/v1/claude/v1/messages/%62atches', '/v1/claude//v1/messages/batches?beta=true']) {
    const res = await raw(gw.url, 'POST', path, H, opus);
    t.equal(res.status, 403, `${path}: refused`);
    t.match(JSON.parse(res.body.toString()).error.message, /^requests\[0\]\.params\.model: "claude-opus-4-1"/, `${path}: naming the request`);
  }
  t.equal(mock.requests.length, 0, 'none reached Anthropic');
  const cancel = await raw(gw.url, 'POST', '/v1/claude/v1/messages/batches/msgbatch_01/cancel', H, '');
  t.equal(mock.requests.length, 1, 'a cancel is forwarded, its empty body unread');
  t.equal(cancel.status, 404, "(the mock's answer)");
  await raw(gw.url, 'GET', '/v1/claude/v1/messages/batches', H);
  t.equal(mock.last?.method, 'GET', 'a listing is forwarded');
});
