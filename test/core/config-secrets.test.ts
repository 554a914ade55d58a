/** The secrets a config holds, found for the log to blank out. */
import t from 'tap';
import { configSecrets } from '../../core/config/secrets.js';

t.test('credential keys at any depth and passwords in URLs', async (t) => {
  const found = configSecrets({
    server: { port: 8080, admin: { token: 'admin-token-0123456789' } },
    store: { type: 'redis', url: 'redis://default:redis-pass-0001@127.0.0.1:6379/0' },
    providers: {
      anthropic: { api_key: 'sk-ant-0000000000', base_url: 'https://api.anthropic.com' },
      bedrock: { access_key_id: 'AKIAEXAMPLE00001', secret_access_key: 'aws/secret/000000', session_token: 'session-token-0000' },
    },
    filters: [{ name: 'auth', config: { key_secret: 'signing-secret-0000' } }, { name: 'audit', config: { file: 'audit.log' } }],
    plain: 'https://user@host/no-password',
    short: { api_key: 'short' },
  });
  t.same(found.sort(), ['admin-token-0123456789', 'aws/secret/000000', 'redis-pass-0001', 'session-token-0000', 'signing-secret-0000', 'sk-ant-0000000000'].sort());
});
