/**
 * Core lets go of a request's parsed JSON once the provider has been called: held across
 * the upstream round trip (seconds, for a real provider), a large prompt's parsed text
 * would stay on the heap per request in flight. A filter that reads `ctx.json()`
 * afterwards gets the same content, parsed again.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { messages } from '../helpers/live.js';
import { parsedBodies } from '../fixtures/recording-filter.js';

const plugin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'recording-filter.ts');

t.test('the parsed body is released at the upstream call and parsed again on demand', async (t) => {
  const gw = await startGateway(t, `server:\n  max_body_bytes: 200000\nproviders:\n  echo: {}\nfilters:\n  - name: recording\n    plugin: ${JSON.stringify(plugin)}\n    config: { tag: release }\n`);
  const url = `${gw.url}/v1/echo/v1/messages`;
  parsedBodies.length = 0;
  for (const body of [messages('x'.repeat(100_000)), messages('stream me', true)]) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    t.equal(res.status, 200);
    await res.text();
  }
  t.equal(parsedBodies.length, 2, 'one record per request');
  for (const [i, { atRequest, atResponse }] of parsedBodies.entries()) {
    t.ok(atRequest && typeof atRequest === 'object', `request ${i}: parsed at onRequest`);
    t.not(atResponse, atRequest, `request ${i}: not the object held before the upstream call`);
    t.same(atResponse, atRequest, `request ${i}: the same content, parsed again`);
  }
});
