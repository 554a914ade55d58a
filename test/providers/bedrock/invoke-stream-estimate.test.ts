/**
 * An InvokeModelWithResponseStream answer from a model other than Anthropic's (Meta Llama,
 * Mistral, Amazon Nova) cut before its last chunk (the one carrying
 * `amazon-bedrock-invocationMetrics`) is charged an output estimate from the text it read,
 * or Llama's own running `generation_token_count`, not 0.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { chunk } from '../../mocks/bedrock-mock.js';
import { startGateway } from '../../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../../helpers/outcome-recorder.js';

const WORDS = 'The quick brown fox jumps over the lazy dog and keeps running far away from here until the story ends'.split(' ').map((w, i) => (i ? ` ${w}` : w));
const TEXT_TOKENS = Math.ceil(WORDS.join('').length / 4);

/** Model chunks per family, all but the final (metrics) chunk. */
const FAMILIES: Record<string, () => unknown[]> = {
  'meta.llama3-8b-instruct-v1:0': () => WORDS.map((w, i) => ({ generation: w, prompt_token_count: i === 0 ? 30 : null, generation_token_count: i + 1, stop_reason: null })),
  'mistral.mistral-7b-instruct-v0:2': () => WORDS.map((w) => ({ outputs: [{ text: w, stop_reason: null }] })),
  'amazon.nova-lite-v1:0': () => [{ messageStart: { role: 'assistant' } }, ...WORDS.map((w) => ({ contentBlockDelta: { delta: { text: w }, contentBlockIndex: 0 } }))],
};

t.test('a Bedrock invoke stream cut before its metrics chunk is charged an output estimate', async (t) => {
  const upstream = http.createServer((req, res) => {
    const model = decodeURIComponent((req.url ?? '').split('/')[2] ?? '');
    req.resume();
    req.on('end', async () => {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      for (const e of FAMILIES[model]()) res.write(chunk(e));
      await new Promise((r) => setTimeout(r, 20));
      res.destroy(); // cut before the last chunk, which would carry amazon-bedrock-invocationMetrics
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { upstream.closeAllConnections(); upstream.close(() => r()); }));
  const gw = await startGateway(t, `
providers:
  bedrock:
    region: us-east-1
    base_url: http://127.0.0.1:${(upstream.address() as AddressInfo).port}
    access_key_id: "AKIAGATEWAYEXAMPLE01"
    secret_access_key: "gateway/secret+key/0000000000000000000000"
filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
`);
  for (const model of Object.keys(FAMILIES)) {
    const id = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/bedrock/model/${encodeURIComponent(model)}/invoke-with-response-stream`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        const rid = String(res.headers['x-request-id']);
        res.resume();
        res.on('end', () => resolve(rid));
        res.on('error', () => resolve(rid));
        res.on('aborted', () => resolve(rid));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ prompt: 'Tell me a story', max_gen_len: 200 }));
    });
    const { outcome } = await outcomeFor(id);
    t.equal(outcome.usageEstimated, true, `${model}: usage is an estimate`);
    t.ok(outcome.usage.outputTokens >= Math.min(WORDS.length, TEXT_TOKENS), `${model}: the ${WORDS.length}-word answer the client read is charged (got ${outcome.usage.outputTokens} output tokens, expected >= ${Math.min(WORDS.length, TEXT_TOKENS)})`);
  }
});
