/**
 * The bench's gateway configs stay valid as the config schema and the plugins' schemas
 * change: each is validated by the command, with the variables the bench sets, and the
 * budget config on both stores it is measured on.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot, runCli } from '../helpers/process.js';

const BENCH_ENV = { MOCK_UPSTREAM: 'http://127.0.0.1:9', AUDIT_FILE: '/tmp/bench-audit.jsonl', ANTHROPIC_API_KEY: 'sk-bench' };
const configs = readdirSync(path.join(repoRoot, 'bench')).filter((f) => f.endsWith('.yaml'));

t.test('every bench config validates', async (t) => {
  t.ok(configs.includes('gateway.yaml') && configs.includes('gateway-budgets.yaml'), configs.join(', '));
  for (const file of configs) {
    const r = runCli(['validate', path.join(repoRoot, 'bench', file)], BENCH_ENV);
    t.equal(r.stdout.trim(), 'ok', `${file}: ${r.stderr}`);
  }
});

t.test('the budget config on the Redis store', async (t) => {
  const r = runCli(['validate', path.join(repoRoot, 'bench/gateway-budgets.yaml')], { ...BENCH_ENV, BENCH_STORE: 'redis', BENCH_REDIS_URL: 'redis://127.0.0.1:6390' });
  t.equal(r.stdout.trim(), 'ok', r.stderr);
  const bad = runCli(['validate', path.join(repoRoot, 'bench/gateway-budgets.yaml')], { ...BENCH_ENV, BENCH_STORE: 'redis-cluster' });
  t.not(bad.status, 0, 'an unknown store type is refused, so the variable really reaches the config');
});
