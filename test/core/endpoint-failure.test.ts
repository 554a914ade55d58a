/**
 * An operational or plugin endpoint that fails unexpectedly answers a bare 500: the cause
 * (a ledger driver's error names its database, host and sometimes a password) goes to the
 * gateway's log, never to whoever asked.
 */
import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../helpers/gateway.js';

const plugin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plugins/failing-endpoint.js');

t.test("a plugin endpoint's failure: a 500 without its text, the cause in the log", async (t) => {
  const gw = await startGateway(t, `providers:\n  echo: {}\nfilters:\n  - name: failing\n    plugin: ${plugin}\n`);
  for (const p of ['/failing', '/failing-async']) {
    const res = await fetch(gw.url + p);
    const text = await res.text();
    t.equal(res.status, 500, p);
    t.equal(JSON.parse(text).error.code, 'GW_ERR_INTERNAL');
    t.notMatch(text, /hunter2|db\.internal|ECONNREFUSED/, 'nothing of the cause reaches the client');
    const line = gw.logs.find((l) => l.msg === 'endpoint failed unexpectedly' && l.path === p);
    t.match(line, { level: 'error', err: { message: /ECONNREFUSED/ } }, 'the log says what failed');
  }
  t.equal((await fetch(gw.url + '/health')).status, 200, 'the gateway keeps serving');
});
