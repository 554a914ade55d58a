/**
 * A body observer (a filter's) that throws while an answer streams: the request still ends
 * — a throw at a chunk with the dialect's error event, every filter's onComplete runs,
 * nothing stays in flight — and the gateway keeps serving. Through the echo provider (an async iterable, read by the delivery) and the
 * Anthropic provider against its mock (an undici body, pushed to the delivery).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { messages, waitFor } from '../helpers/live.js';
import { completedBodies } from '../fixtures/recording-filter.js';
import { AnthropicMock } from '../mocks/anthropic-mock.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const throwing = JSON.stringify(path.join(fixtures, 'throwing-observer-filter.ts'));
const recording = JSON.stringify(path.join(fixtures, 'recording-filter.ts'));

t.test('an observer that throws ends its request, not the gateway', async (t) => {
  const upstream = await AnthropicMock.start({ apiKey: 'sk-ant-test' });
  t.teardown(() => upstream.close());
  for (const at of ['data', 'end'] as const) {
    const gw = await startGateway(
      t,
      `providers:\n  echo: {}\n  anthropic:\n    api_key: sk-ant-test\n    base_url: ${upstream.url}\nfilters:\n  - name: throwing-observer\n    plugin: ${throwing}\n    config: { at: ${at} }\n  - name: recording\n    plugin: ${recording}\n    config: { tag: after }\n`,
    );
    for (const route of ['/v1/echo/v1/messages', '/v1/claude/v1/messages']) {
      completedBodies.length = 0;
      const res = await fetch(`${gw.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: messages('hello', true) });
      t.equal(res.status, 200, `${at} ${route}: the head went out`);
      const text = await res.text().catch(() => '');
      // Failing at a chunk is the answer's failure: its stream ends with the dialect's error event.
      if (at === 'data') t.match(text, /event: error\ndata: \{"type":"error"/, `${at} ${route}: the stream ends with an error event`);
      await waitFor(() => completedBodies.length === 1 && gw.gateway.current.active === 0, 3000);
      t.pass(`${at} ${route}: the request ended and every filter heard of it`);
      const again = await fetch(`${gw.url}/health`);
      t.equal(again.status, 200, `${at} ${route}: the gateway still serves`);
    }
  }
});
