/**
 * A config issue can quote a secret: a plugin's create() that says what it was handed. The
 * log blanks the config's secrets in every string it writes, a failed reload's issues
 * included, and the new config's secrets are known before its first issue is written.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Logger } from '../../core/index.js';
import { startGateway } from '../helpers/gateway.js';
import { tempDir } from '../helpers/temp-dir.js';

const OLD_KEY = 'sk-live-OLDKEY-0123456789';
const NEW_KEY = 'sk-live-NEWKEY-9876543210';
/** A provider that checks its key's shape in create() and says what it got. */
const KEYED_PLUGIN = `export default {
  name: 'keyed', defaultPrefix: '/v1/keyed',
  configSchema: { type: 'object', properties: { api_key: { type: 'string' }, region: { type: 'string' } } },
  create(c) {
    if (c.region === 'bad') throw new Error('api_key ' + c.api_key + ' is not valid in region ' + c.region);
    return { dialect: { name: 'x', renderError: () => ({ status: 500, headers: {}, body: '' }) }, configured: true, features: [], models: () => [], health: async () => ({ status: 'ok' }) };
  },
};
`;
const config = (key: string, region: string): string => `server: { host: 127.0.0.1 }\nproviders:\n  keyed:\n    plugin: ./keyed.mjs\n    api_key: ${key}\n    region: ${region}\n`;

t.test('a failed reload whose plugin error quotes the new provider key does not log the key', async (t) => {
  const dir = tempDir('gw-reload-secret-');
  writeFileSync(path.join(dir, 'keyed.mjs'), KEYED_PLUGIN);
  const g = await startGateway(t, config(OLD_KEY, 'eu'), { dir });
  writeFileSync(g.configPath, config(NEW_KEY, 'bad'));
  const r = await g.gateway.reload();
  t.equal(r.ok, false, 'the reload fails');
  const failure = g.logs.find((l) => l.msg === 'config reload failed; still serving the previous config');
  const issues = (failure?.issues ?? []) as Array<{ message: string }>;
  t.ok(issues.some((i) => i.message.includes('api_key *** is not valid in region bad')), `the issue is logged, the key blanked: ${JSON.stringify(issues)}`);
  t.notMatch(JSON.stringify(g.logs), NEW_KEY, 'no log line holds the key');
});

t.test("an embedder's own Logger gets the failed reload's issues redacted too", async (t) => {
  const dir = tempDir('gw-reload-secret-own-');
  writeFileSync(path.join(dir, 'keyed.mjs'), KEYED_PLUGIN);
  const lines: string[] = [];
  const own: Logger = {
    debug: (msg, fields) => lines.push(JSON.stringify({ msg, ...fields })),
    info: (msg, fields) => lines.push(JSON.stringify({ msg, ...fields })),
    warn: (msg, fields) => lines.push(JSON.stringify({ msg, ...fields })),
    error: (msg, fields) => lines.push(JSON.stringify({ msg, ...fields })),
    child: () => own,
  };
  const g = await startGateway(t, config(OLD_KEY, 'eu'), { dir, log: own });
  writeFileSync(g.configPath, config(NEW_KEY, 'bad'));
  t.equal((await g.gateway.reload()).ok, false, 'the reload fails');
  t.ok(lines.some((l) => l.includes('config reload failed') && l.includes('api_key *** is not valid')), 'the issue is logged, the key blanked');
  t.notMatch(lines.join('\n'), NEW_KEY, 'no line holds the key');
});
