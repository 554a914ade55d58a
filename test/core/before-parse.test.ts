/**
 * `network` and `auth` refuse before anything parses the request body (Filter.beforeParse):
 * JSON.parse of a dense 16 MiB body takes seconds of the one event loop, and before this
 * anyone who could reach the port got that for the price of an upload. A filter that does
 * not declare it still runs after the provider's inspect, in config order.
 */
import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../helpers/gateway.js';
import { outcomeFor, OUTCOME_RECORDER_PATH } from '../helpers/outcome-recorder.js';
import { config, messages, post, SECRET } from '../filters/fixtures.js';

const seer = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plugins/model-seer.js');

const filters = (seerBeforeParse: boolean) => `  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
  - name: network
    config: { allow: [127.0.0.1/32] }
  - name: seer
    plugin: ${seer}
    config: { before_parse: ${seerBeforeParse} }
  - name: auth
    config: { key_secret: ${SECRET} }
`;

t.test('a request auth refuses is never parsed; one it admits is, before the filters after it', async (t) => {
  const gw = await startGateway(t, config(filters(true)));
  const url = `${gw.url}/v1/echo/v1/messages`;

  const refused = await post(url, {}, messages({ model: 'echo-1' }));
  t.equal(refused.status, 401);
  t.equal(refused.headers.get('x-seen-model'), '', 'a beforeParse filter runs before the inspect');
  const rec = await outcomeFor(refused.headers.get('x-request-id')!);
  t.equal(rec.model, undefined, 'the provider never read the refused body');
  t.equal(rec.outcome.error?.code, 'GW_ERR_AUTH_MISSING');

  const admitted = await post(url, { 'x-workspace-id': 'ws-abc123' }, messages({ model: 'echo-1' }));
  t.equal(admitted.status, 200);
  t.equal((await outcomeFor(admitted.headers.get('x-request-id')!)).model, 'echo-1', 'read once auth admitted it');

  // Dense containers are what makes JSON.parse slow; refused unread, the body is only bytes.
  const dense = `{"model":"echo-1","max_tokens":5,"messages":[${'[],'.repeat(3 * 1024 * 1024)}[]]}`;
  const denseRefused = await post(url, {}, dense);
  t.equal(denseRefused.status, 401, 'a 9 MiB body of empty arrays is refused by auth');
  t.equal((await outcomeFor(denseRefused.headers.get('x-request-id')!)).model, undefined);
});

t.test('a filter that does not declare beforeParse ends the early run: it and the rest see the inspect', async (t) => {
  const gw = await startGateway(t, config(filters(false)));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const refused = await post(url, {}, messages({ model: 'echo-1' }));
  t.equal(refused.status, 401);
  t.equal(refused.headers.get('x-seen-model'), 'echo-1', 'the seer ran after the inspect, as before');
  t.equal((await outcomeFor(refused.headers.get('x-request-id')!)).model, 'echo-1', 'auth, after the seer, refused a parsed request');
});

t.test('network refuses before the parse too', async (t) => {
  const gw = await startGateway(t, config(filters(true).replace('127.0.0.1/32', '10.0.0.0/8')));
  const res = await post(`${gw.url}/v1/echo/v1/messages`, { 'x-workspace-id': 'ws-abc123' }, messages({ model: 'echo-1' }));
  t.equal(res.status, 403);
  const rec = await outcomeFor(res.headers.get('x-request-id')!);
  t.equal(rec.outcome.error?.code, 'GW_ERR_NETWORK_FORBIDDEN');
  t.equal(rec.model, undefined);
});
