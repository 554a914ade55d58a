/**
 * The admin token as it arrives from a secret file: with a trailing newline (which the
 * presented token never has) it must still let its holder in, and its length is judged
 * without the whitespace around it.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { TOKEN } from './setup.js';

const CONFIG = `providers:
  echo: { models: [echo-1] }
filters:
  - name: admin
    config:
      token: "\${ADMIN_TOKEN}"
`;

t.test('a token from a secret file with a trailing newline still works', async (t) => {
  const gw = await startGateway(t, CONFIG, { env: { ADMIN_TOKEN: `${TOKEN}\n` } });
  const api = await fetch(`${gw.url}/admin/usage`, { headers: { authorization: `Bearer ${TOKEN}` } });
  await api.arrayBuffer();
  t.equal(api.status, 503, 'Bearer with the token is let in (and told there is no ledger)');
  const wrong = await fetch(`${gw.url}/admin/usage`, { headers: { authorization: `Bearer ${TOKEN}x` } });
  await wrong.arrayBuffer();
  t.equal(wrong.status, 403, 'another token is not');
  const login = await fetch(`${gw.url}/dashboard/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${TOKEN}`, redirect: 'manual' });
  await login.arrayBuffer();
  t.equal(login.status, 303, 'the login form accepts the token');
});

t.test('a token judged without its surrounding whitespace', async (t) => {
  await t.rejects(startGateway(t, CONFIG, { env: { ADMIN_TOKEN: '0123456789abcde\n' } }), /at least 16 characters/, '15 characters and a newline are too short');
  const blank = await startGateway(t, CONFIG, { env: { ADMIN_TOKEN: '\n' } });
  const res = await fetch(`${blank.url}/admin/usage`, { headers: { authorization: 'Bearer ' } });
  await res.arrayBuffer();
  t.equal(res.status, 404, 'a blank token is no token: the admin API is off');
  t.ok(blank.logs.some((l) => l.msg === 'admin API and dashboard disabled: no admin token set'));
});
