/**
 * A provider plugin's stream that fails mid-way with a plain Error of its own: the request's
 * outcome (what audit and accounting get) keeps the plugin's message after the catalogued
 * one, with the config's secrets blanked as in the operational log, while the client's
 * error event says only the catalogued message. A socket failure's coded message is as it was.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { SseDecoder } from '../../core/stream/sse.js';
import { startGateway } from '../helpers/gateway.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../helpers/outcome-recorder.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plugins');
const KEY = 'plugin-worker-token-0123456789abcdef';

async function lastEvent(res: Response): Promise<{ event: string; data: string }> {
  const events: Array<{ event: string; data: string }> = [];
  const sse = new SseDecoder((event, data) => events.push({ event, data }));
  sse.push(Buffer.from(await res.text()));
  sse.end();
  return events.at(-1)!;
}

const gw = await startGateway(t, `
providers:
  failing:
    plugin: ${path.join(fixtures, 'failing-stream-provider.js')}
    api_key: ${KEY}
  timed:
    plugin: ${path.join(fixtures, 'failing-stream-provider.js')}
    api_key: ${KEY}
    resilience: { timeouts: { idle_ms: 5000 } }
  cut:
    plugin: ${path.join(fixtures, 'cut-stream-provider.js')}
filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
`);

for (const name of ['failing', 'timed']) {
t.test(`a plugin's own Error mid-stream${name === 'timed' ? ', under an idle timer' : ''}: its message is in the outcome, redacted`, async (t) => {
  const res = await fetch(`${gw.url}/v1/${name}/stream`, { method: 'POST', body: '{}' });
  t.equal(res.status, 200);
  const last = await lastEvent(res);
  const { outcome } = await outcomeFor(res.headers.get('x-request-id')!);
  t.same(outcome.error, {
    kind: 'upstream_error',
    code: 'GW_ERR_UPSTREAM_PROTOCOL',
    message: 'Upstream sent an invalid response: model worker exited with CUDA out of memory (worker token ***)',
  });
  t.equal(last.event, 'error');
  t.same(JSON.parse(last.data), { type: 'error', error: { message: 'Upstream sent an invalid response' } }, "the client hears the catalogued message, not the plugin's text");
});
}

t.test('a coded socket failure keeps its message', async (t) => {
  const res = await fetch(`${gw.url}/v1/cut/stream`, { method: 'POST', body: '{}' });
  await res.text();
  const { outcome } = await outcomeFor(res.headers.get('x-request-id')!);
  t.same(outcome.error, { kind: 'upstream_error', code: 'GW_ERR_UPSTREAM_PROTOCOL', message: 'Upstream connection failed mid-response (ECONNRESET)' });
});
