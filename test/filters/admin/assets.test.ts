/**
 * `/dashboard/assets/<name>` serves four named files and nothing else. Names of
 * Object.prototype's members must not be "found": they once threw in the handler and
 * answered an unauthenticated 500 with a Node error message.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';

const TOKEN = 'admin-token-0123456789abcdef';

t.test('only the named assets are served; inherited names are a 404', async (t) => {
  const gw = await startGateway(t, `providers:
  echo: { models: [echo-1] }
filters:
  - name: admin
    config: { token: ${TOKEN} }
`);
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'nope.js']) {
    const r = await fetch(`${gw.url}/dashboard/assets/${name}`);
    const text = await r.text();
    t.equal(r.status, 404, `${name}: ${r.status} ${text.slice(0, 120)}`);
    t.equal(text, 'not found');
  }
  for (const name of ['dashboard.js', 'dashboard.css', 'uPlot.iife.min.js', 'uPlot.min.css']) {
    const r = await fetch(`${gw.url}/dashboard/assets/${name}`);
    await r.arrayBuffer();
    t.equal(r.status, 200, `${name} is served`);
  }
});
