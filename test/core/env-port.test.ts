/** `AI_GATEWAY_PORT`: a port number wins over `server.port`, empty is unset, anything else refuses the start. */
import t from 'tap';
import { envPort, Gateway } from '../../core/gateway.js';
import { silentLogger } from '../../core/logger.js';
import { builtinCatalog } from '../../bin/catalog.js';
import { writeConfig } from '../helpers/gateway.js';

t.test('port numbers, with spaces around them ignored', async (t) => {
  t.equal(envPort({ AI_GATEWAY_PORT: '8090' }), 8090);
  t.equal(envPort({ AI_GATEWAY_PORT: ' 8091\n' }), 8091);
  t.equal(envPort({ AI_GATEWAY_PORT: '0' }), 0, 'a port the kernel picks');
  t.equal(envPort({ AI_GATEWAY_PORT: '65535' }), 65535);
});

t.test('unset or empty: server.port applies', async (t) => {
  t.equal(envPort({}), undefined);
  t.equal(envPort({ AI_GATEWAY_PORT: '' }), undefined);
});

t.test('anything else is refused, naming the variable', async (t) => {
  for (const value of [' ', '\t', 'abc', '99999', '65536', '-1', '80.5', '0x50', '1e3', '80 81']) {
    t.throws(() => envPort({ AI_GATEWAY_PORT: value }), { message: `AI_GATEWAY_PORT must be a port number from 0 to 65535 (or empty for server.port), not ${JSON.stringify(value)}` }, JSON.stringify(value));
  }
});

t.test('Gateway.start refuses a bad AI_GATEWAY_PORT before it builds anything', async (t) => {
  const { file } = writeConfig('server:\n  host: 127.0.0.1\n  port: 0\nproviders:\n  echo: {}\n');
  await t.rejects(Gateway.start({ configPath: file, catalog: builtinCatalog, env: { AI_GATEWAY_PORT: ' ' }, log: silentLogger, watch: false }), { message: /^AI_GATEWAY_PORT must be a port number/ });
});
