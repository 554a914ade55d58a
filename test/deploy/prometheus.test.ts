/** `promtool check rules` and `promtool test rules` on deploy/prometheus (promtool from Debian's prometheus package). */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';

const DIR = path.join(import.meta.dirname, '..', '..', 'deploy', 'prometheus');
const found = spawnSync('promtool', ['--version']).status === 0;
// CI installs promtool (.ci/run), so there a missing one fails instead of skipping.
const skip = found || process.env.CI ? false : 'promtool is not installed (apt-get install prometheus)';

t.test('promtool check rules', { skip }, async (t) => {
  const out = execFileSync('promtool', ['check', 'rules', path.join(DIR, 'alerts.yaml')], { encoding: 'utf8' });
  t.match(out, /SUCCESS: \d+ rules found/);
});

t.test('promtool test rules: the alerts fire on faithful series', { skip }, async (t) => {
  const r = spawnSync('promtool', ['test', 'rules', 'alerts.test.yaml'], { cwd: DIR, encoding: 'utf8' });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.match(r.stdout, /SUCCESS/);
});
