/**
 * `ai-gateway validate` (the built command) on configs whose plugins misbehave: it ends,
 * and says what start-up would say.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot, runCli } from '../helpers/process.js';
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

/** Each starts with `server:` on a loopback port the kernel picks, in case start-up did not refuse it. */
const SERVER = 'server:\n  host: 127.0.0.1\n  port: 0\n';

const START_REFUSES: Array<[string, string, RegExp]> = [
  [
    "the Ollama example's create() refuses credentials in base_url",
    `${SERVER}providers:\n  ollama:\n    plugin: ${path.join(repoRoot, 'examples/plugins/ollama/index.js')}\n    base_url: http://user:pw@127.0.0.1:11434\n    models: [llama3.2]\n`,
    /^\S+config\.yaml:6:5: providers\.ollama: provider "ollama": create\(\) failed: base_url must not carry a query or credentials\n$/,
  ],
  [
    "the auth filter's create() refuses require_keys without key_secret",
    `${SERVER}providers:\n  echo: {}\nfilters:\n  - name: auth\n    config: { require_keys: true }\n`,
    /^\S+config\.yaml:7:5: filters\[0\]: filter "auth": create\(\) failed: require_keys is true but key_secret is empty/,
  ],
  [
    'certificate files that do not exist',
    `${SERVER}  tls: { cert_file: missing.crt, key_file: missing.key }\nproviders:\n  echo: {}\n`,
    /^\S+config\.yaml:4:\d+: server\.tls\.cert_file: cannot read \S+missing\.crt: ENOENT\n\S+config\.yaml:4:\d+: server\.tls\.key_file: cannot read \S+missing\.key: ENOENT\n$/,
  ],
];

for (const [what, yaml, expected] of START_REFUSES) {
  t.test(`validate refuses what start-up refuses: ${what}`, async (t) => {
    const file = path.join(tempDir('gw-validate-'), 'config.yaml');
    writeFileSync(file, yaml);
    const start = runCli(['--config', file]);
    t.equal(start.status, 1, 'start-up refuses it');
    const v = runCli(['validate', file]);
    t.equal(v.status, 1, 'validate exits 1');
    t.equal(v.stdout, '', 'no "ok"');
    t.match(v.stderr, expected);
  });
}

t.test('a price file that cannot be read is said once, at pricing.file', async (t) => {
  const file = path.join(tempDir('gw-validate-'), 'config.yaml');
  writeFileSync(file, 'providers:\n  echo: {}\npricing:\n  file: ./missing-prices.yaml\nfilters:\n  - name: cost\n');
  const v = runCli(['validate', file]);
  t.equal(v.status, 1);
  const lines = v.stderr.trim().split('\n');
  t.equal(lines.length, 1, v.stderr);
  t.match(lines[0], /config\.yaml:4:\d+: pricing\.file: /);
});

t.test('a blank RATE_LIMIT_RPM is refused by start-up and validate, naming the variable', async (t) => {
  const file = path.join(tempDir('gw-validate-'), 'config.yaml');
  writeFileSync(file, `${SERVER}providers:\n  echo: {}\nrate_limits:\n  default:\n    requests_per_minute: \${RATE_LIMIT_RPM:-60}\n`);
  const expected = /config\.yaml:8:26: rate_limits\.default\.requests_per_minute: must be a number; RATE_LIMIT_RPM is blank/;
  const start = runCli(['--config', file], { RATE_LIMIT_RPM: ' ' });
  t.equal(start.status, 1, 'start-up refuses it');
  t.match(start.stderr, expected);
  const v = runCli(['validate', file], { RATE_LIMIT_RPM: ' ' });
  t.equal(v.status, 1, 'validate exits 1');
  t.match(v.stderr, expected);
  t.equal(runCli(['validate', file], { RATE_LIMIT_RPM: '' }).stdout, 'ok\n', 'empty takes the default');
});
