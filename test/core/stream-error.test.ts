/**
 * A stream that fails after its head was sent ends with the dialect's error event, as an
 * event of its own even when the failure cut an event in half.
 */
import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SseDecoder } from '../../core/stream/sse.js';
import { startGateway } from '../helpers/gateway.js';

const plugin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plugins/cut-stream-provider.js');

t.test('an upstream cut mid-event still ends with a parseable error event', async (t) => {
  const gw = await startGateway(t, `providers:\n  cut:\n    plugin: ${plugin}\n`);
  const res = await fetch(`${gw.url}/v1/cut/stream`, { method: 'POST', body: '{}' });
  t.equal(res.status, 200);
  const text = await res.text();
  const events: Array<{ event: string; data: string }> = [];
  const sse = new SseDecoder((event, data) => events.push({ event, data }));
  sse.push(Buffer.from(text));
  sse.end();
  const last = events.at(-1)!;
  t.equal(last.event, 'error', 'the last event is the error');
  t.match(JSON.parse(last.data), { type: 'error', error: { message: /Upstream connection failed mid-response \(ECONNRESET\)/ } });
  t.equal(events[0].event, 'ping', 'what came before arrived');
});
