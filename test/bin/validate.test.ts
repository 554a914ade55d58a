/**
 * `ai-gateway validate` (the built command) on configs whose plugins misbehave: it ends,
 * and says what start-up would say.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('a plugin whose import never finishes: validate gives up at the time limit and says so', async (t) => {
  const dir = tempDir('gw-validate-');
  writeFileSync(path.join(dir, 'hang.mjs'), "await new Promise(() => {});\nexport default { name: 'h', create() { return {}; } };\n");
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, 'providers:\n  echo: {}\nfilters:\n  - name: h\n    plugin: ./hang.mjs\n');
  const started = performance.now();
  const r = runCli(['validate', file], { AI_GATEWAY_PLUGIN_TIMEOUT_MS: '300' });
  t.equal(r.status, 1, 'exits 1');
  t.equal(r.stdout, '');
  t.match(r.stderr, `${file}:5:13: filters[0].plugin: cannot import plugin "./hang.mjs": its import did not finish within 300 ms`);
  t.ok(performance.now() - started < 15_000, 'well before the 30 s default');
});
