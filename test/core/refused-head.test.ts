/**
 * A response head Node refuses to write — a header value a filter set outside Latin-1 (a
 * config value such as "team-€"), a status that is none — is the gateway's own fault: the
 * client gets a 500 in its dialect instead of a cut connection, and the outcome says
 * `internal` instead of blaming the upstream with a protocol error at status 200.
 */
import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../helpers/gateway.js';
import { call, messages } from '../helpers/http.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../helpers/outcome-recorder.js';

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plugins/misbehaving-filter.js');

const config = (filterConfig: string) => `
providers:
  echo: {}
filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
  - name: misbehaving
    plugin: ${fixture}
    config: ${filterConfig}
`;

for (const stream of [false, true]) {
  t.test(`a filter's header value outside Latin-1 on a ${stream ? 'streamed' : 'JSON'} answer: a 500 in the route's dialect`, async (t) => {
    const gw = await startGateway(t, config('{ header_value: "team-€" }'));
    const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('hello', { stream }) });
    t.equal(res.status, 500);
    t.match(res.json(), { type: 'error', error: { type: 'api_error' } }, 'an Anthropic error body');
    const rec = await outcomeFor(res.headers['x-request-id'] as string);
    t.equal(rec.outcome.status, 500);
    t.match(rec.outcome.error, { kind: 'internal', code: 'GW_ERR_INTERNAL' });
    t.match(gw.logs.find((l) => l.msg === 'the response head could not be written'), { level: 'error', err: { message: /x-misbehaving/ } });
    const metrics = await call(`${gw.url}/metrics`);
    t.notMatch(metrics.text, /gateway_upstream_errors_total\{[^}]*provider="echo"/, 'not counted against the provider');
    const next = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('again', { stream }) });
    t.equal(next.status, 500, 'the gateway keeps serving');
  });
}

t.test('a filter reply with a status that is none: a 500, not a cut connection', async (t) => {
  const gw = await startGateway(t, config('{ verdict: bad-status }'));
  const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('hello') });
  t.equal(res.status, 500);
  t.match(res.json(), { type: 'error', error: { type: 'api_error' } });
  const rec = await outcomeFor(res.headers['x-request-id'] as string);
  t.equal(rec.outcome.status, 500, 'the outcome has the status the client saw, not 42');
  t.match(rec.outcome.error, { kind: 'internal', code: 'GW_ERR_INTERNAL' });
});

