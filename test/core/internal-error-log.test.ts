/**
 * A provider's own bug (a plain exception from its inspect or its call) answers a bare 500
 * in the caller's dialect, and the operational log says what failed and where: the
 * client's response and the audit line carry only the code.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { auditLines, post, waitFor } from '../filters/fixtures.js';

const KEY = 'sk-broken-UPSTREAMKEY-000000000000';
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const PROVIDER = path.join(fixtures, 'throwing-provider.ts');
const THROWING_FILTER = path.join(fixtures, 'throwing-observer-filter.ts');

for (const where of ['inspect', 'call'] as const) {
  t.test(`a provider throwing in its ${where}`, async (t) => {
    const gw = await startGateway(t, `providers:
  broken: { plugin: ${PROVIDER}, prefix: /v1/broken, throws_in: ${where}, api_key: ${KEY} }
filters:
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 20 }
`);
    const r = await post(`${gw.url}/v1/broken/v1/messages`, { 'x-request-id': `req-${where}` });
    t.equal(r.status, 500);
    const body = JSON.parse(r.text) as { type: string; error: { type: string; message: string } };
    t.equal(body.type, 'error', "the Anthropic dialect's error");
    t.equal(body.error.type, 'api_error');
    t.notMatch(r.text, /Cannot read|Headers|TypeError|brokenRead|brokenHeader/, 'nothing of the cause reaches the client');

    const line = gw.logs.find((l) => l.request_id === `req-${where}` && l.level === 'error');
    t.ok(line, 'an error line for the request');
    t.equal(line?.msg, where === 'call' ? 'provider call failed unexpectedly' : 'provider inspect failed unexpectedly');
    t.equal(line?.route, 'broken');
    const err = line?.err as { name: string; message: string; at?: string } | undefined;
    t.equal(err?.name, 'TypeError', 'the cause, not the 500 it became');
    if (where === 'inspect') {
      t.match(err?.message, /reading 'model'/);
      t.match(err?.at, /^brokenRead \(.*throwing-provider\.ts:\d+:\d+\)$/, 'the frame that threw');
    } else {
      t.equal(err?.message, 'Headers.append: "***\n" is an invalid header value.', "the provider's key blanked out of the message");
      t.match(err?.at, /^brokenHeader \(.*throwing-provider\.ts:\d+:\d+\)$/, 'the frame that threw');
    }
    t.notOk(gw.logs.some((l) => JSON.stringify(l).includes(KEY)), 'the key in no log line');

    const file = path.join(gw.dir, 'audit.log');
    t.ok(await waitFor(() => auditLines(file).some((l) => l.request_id === `req-${where}`)), 'an audit line');
    const audit = auditLines(file).find((l) => l.request_id === `req-${where}`)!;
    t.equal(audit.status, 500);
    t.notMatch(JSON.stringify(audit), /Cannot read|Headers|TypeError|brokenRead|brokenHeader/, 'the audit line carries the code only');

    const ok = await fetch(`${gw.url}/health`);
    t.equal(ok.status, 200, 'the gateway keeps serving');
  });
}

t.test('a filter throwing in its onRequest', async (t) => {
  const gw = await startGateway(t, `providers:
  echo: { models: [echo-1] }
filters:
  - name: thrower
    plugin: ${THROWING_FILTER}
    config: { at: request }
`);
  const r = await post(`${gw.url}/v1/echo/v1/messages`, { 'x-request-id': 'req-filter' });
  t.equal(r.status, 500);
  t.notMatch(r.text, /RangeError|broke/, 'nothing of the cause reaches the client');
  const line = gw.logs.find((l) => l.msg === 'filter onRequest threw');
  t.equal(line?.request_id, 'req-filter', 'the line names the request');
  t.equal(line?.filter, 'thrower');
  t.match(line?.err, { name: 'RangeError', message: 'filter broke at request', at: /throwing-observer-filter\.ts:\d+:\d+\)$/ });
});
