import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Gateway } from '../../core/index.js';
import { listenUrls, reachableUrl } from '../../core/listen-urls.js';
import { createLogger } from '../../core/logger.js';
import { builtinCatalog } from '../../bin/catalog.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('a wildcard bind is logged as bound, with the loopback URL beside it', async (t) => {
  t.same(listenUrls('http', { address: '0.0.0.0', family: 'IPv4', port: 8090 }), { url: 'http://0.0.0.0:8090', local_url: 'http://127.0.0.1:8090' });
  t.same(listenUrls('https', { address: '::', family: 'IPv6', port: 443 }), { url: 'https://[::]:443', local_url: 'https://[::1]:443' });
  t.same(listenUrls('http', { address: '10.1.2.3', family: 'IPv4', port: 80 }), { url: 'http://10.1.2.3:80' }, 'a specific address needs no hint');
  t.equal(reachableUrl('http', { address: '0.0.0.0', family: 'IPv4', port: 8090 }), 'http://127.0.0.1:8090', 'gateway.url stays one a client can use');
});

t.test('the start-up line names the bound address and the config file absolutely', async (t) => {
  const dir = tempDir('gw-start-log-');
  writeFileSync(path.join(dir, 'config.yaml'), 'providers:\n  echo: {}\n');
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'info', sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const cwd = process.cwd();
  process.chdir(dir);
  t.teardown(() => process.chdir(cwd));
  const gw = await Gateway.start({ configPath: 'config.yaml', catalog: builtinCatalog, env: {}, log, port: 0, host: '127.0.0.1', watch: false });
  t.teardown(() => gw.close());
  const started = lines.find((l) => l.msg === 'gateway listening')!;
  t.equal(started.url, `http://127.0.0.1:${gw.port}`);
  t.notOk('local_url' in started, 'a loopback bind needs no hint');
  t.equal(started.config, path.join(dir, 'config.yaml'), 'a relative --config is shown absolute');
});
