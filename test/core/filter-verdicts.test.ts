/**
 * A filter that answers onRequest with something that is not a verdict (a plain
 * JavaScript plugin is not type-checked) fails closed: the client gets an internal error
 * in its dialect, the outcome says so, the log names the filter, and the provider is never
 * called. Taking such an answer for "continue" would let a policy filter's mistake admit
 * every request.
 */
import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../helpers/gateway.js';
import { call, messages } from '../helpers/http.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../helpers/outcome-recorder.js';

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plugins/misbehaving-filter.js');

const config = (verdict: string, async: boolean) => `
providers:
  echo: {}
filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
  - name: misbehaving
    plugin: ${fixture}
    config: { verdict: "${verdict}", async: ${async} }
`;

for (const async of [false, true]) {
  for (const verdict of ['deny', 'false', 'null', 'number', 'uncalled-reply']) {
    t.test(`${async ? 'a promise of ' : ''}${verdict} is refused as an internal error, in the route's dialect`, async (t) => {
      const gw = await startGateway(t, config(verdict, async));
      const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('must not reach the provider') });
      t.equal(res.status, 500);
      t.match(res.json(), { type: 'error', error: { type: 'api_error' } }, 'an Anthropic error body');
      const rec = await outcomeFor(res.headers['x-request-id'] as string);
      t.equal(rec.outcome.error?.code, 'GW_ERR_INTERNAL');
      t.equal(rec.outcome.repliedBy, 'misbehaving');
      t.equal(rec.outcome.usage.outputTokens, 0, 'the provider was not called');
      const line = gw.logs.find((l) => l.msg === 'filter onRequest returned no verdict');
      t.match(line, { level: 'error', filter: 'misbehaving', request_id: res.headers['x-request-id'] });
    });
  }
}

t.test("a reply whose error is a plain Error answers a 500 in the route's dialect and completes", async (t) => {
  const gw = await startGateway(t, config('plain-error', false));
  const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('x') });
  t.equal(res.status, 500);
  t.match(res.json(), { type: 'error', error: { type: 'api_error' } });
  t.notMatch(res.text, /secret detail/, "the Error's text stays in the log");
  const rec = await outcomeFor(res.headers['x-request-id'] as string);
  t.equal(rec.outcome.error?.code, 'GW_ERR_INTERNAL');
  t.match(gw.logs.find((l) => l.msg === 'filter replied with an error that is not a GatewayError'), { filter: 'misbehaving', err: { message: 'secret detail of a plain Error' } });
});

t.test('nothing and { action: "continue" } go on, synchronously or not', async (t) => {
  for (const [verdict, async] of [['nothing', false], ['continue', false], ['nothing', true], ['continue', true]] as const) {
    const gw = await startGateway(t, config(verdict, async));
    const res = await call(`${gw.url}/v1/echo/v1/messages`, { body: messages('hello') });
    t.equal(res.status, 200, `${verdict}${async ? ' (async)' : ''}`);
  }
});
