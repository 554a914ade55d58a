/**
 * An OpenAI chat stream the upstream closes cleanly before `data: [DONE]` (between events or
 * in the middle of one) is a stream error, not a success, on the unified endpoint and the
 * /v1/openai pass-through; the unified client also gets an error chunk, so the OpenAI SDK
 * raises instead of taking part of an answer for the whole. A whole stream is neither.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../../helpers/outcome-recorder.js';

const chunk = (content: string): string => `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

t.test('an OpenAI stream cut before [DONE] is a stream error', async (t) => {
  let midEvent = false;
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('Hello'));
      res.write(chunk(' world'));
      if (midEvent) res.write(chunk(' and more').slice(0, 30));
      res.end(); // clean close: no finish chunk, no usage chunk, no [DONE]
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { upstream.closeAllConnections(); upstream.close(() => r()); }));
  const gw = await startGateway(t, `
providers:
  openai:
    api_key: sk-openai-gw
    base_url: http://127.0.0.1:${(upstream.address() as AddressInfo).port}
filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
`);
  const post = (path: string): Promise<{ id: string; text: string }> =>
    new Promise((resolve, reject) => {
      let text = '';
      const req = http.request(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ id: String(res.headers['x-request-id']), text }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    });
  for (const mid of [false, true]) {
    midEvent = mid;
    for (const path of ['/v1/chat/completions', '/v1/openai/v1/chat/completions']) {
      const name = `${path}, ${mid ? 'cut mid-event' : 'cut between events'}`;
      const r = await post(path);
      const { outcome } = await outcomeFor(r.id);
      t.equal(outcome.error?.kind, 'stream_error', `${name}: audited as a stream error (got ${JSON.stringify(outcome.error ?? null)})`);
      if (path === '/v1/chat/completions') t.match(r.text, /data: \{"error":\{/, `${name}: the unified client gets an error chunk`);
      else t.notMatch(r.text, /"error"/, `${name}: the pass-through's bytes are the upstream's`);
      t.equal(outcome.usageEstimated, true, `${name}: usage estimated`);
    }
  }
});
