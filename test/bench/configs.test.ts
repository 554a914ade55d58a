/**
 * The bench's gateway configs stay valid as the config schema and the plugins' schemas
 * change: each is validated by the command, with the variables the bench sets, and the
 * default and budget configs on both stores they are measured on.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { CHAIN_FILTERS, chainConfig } from '../../bench/lib/chain-configs.js';
import { workersConfig, workersEnv } from '../../bench/lib/workers-config.js';
import { repoRoot, runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const BENCH_ENV = { MOCK_UPSTREAM: 'http://127.0.0.1:9', AUDIT_FILE: '/tmp/bench-audit.jsonl', ANTHROPIC_API_KEY: 'sk-bench' };
const configs = readdirSync(path.join(repoRoot, 'bench')).filter((f) => f.endsWith('.yaml'));

t.test('every bench config validates', async (t) => {
  t.ok(configs.includes('gateway.yaml') && configs.includes('gateway-budgets.yaml'), configs.join(', '));
  for (const file of configs) {
    const r = runCli(['validate', path.join(repoRoot, 'bench', file)], BENCH_ENV);
    t.equal(r.stdout.trim(), 'ok', `${file}: ${r.stderr}`);
  }
});

for (const file of ['gateway.yaml', 'gateway-budgets.yaml']) {
  t.test(`${file} on the Redis store`, async (t) => {
    const r = runCli(['validate', path.join(repoRoot, 'bench', file)], { ...BENCH_ENV, BENCH_STORE: 'redis', BENCH_REDIS_URL: 'redis://127.0.0.1:6390' });
    t.equal(r.stdout.trim(), 'ok', r.stderr);
    const bad = runCli(['validate', path.join(repoRoot, 'bench', file)], { ...BENCH_ENV, BENCH_STORE: 'redis-cluster' });
    t.not(bad.status, 0, 'an unknown store type is refused, so the variable really reaches the config');
    const cluster = runCli(['validate', path.join(repoRoot, 'bench', file)], { ...BENCH_ENV, BENCH_STORE: 'redis', BENCH_REDIS_URL: 'redis://127.0.0.1:6390', BENCH_REDIS_CLUSTER: 'true' });
    t.equal(cluster.stdout.trim(), 'ok', `on a Redis Cluster: ${cluster.stderr}`);
    const notBoolean = runCli(['validate', path.join(repoRoot, 'bench', file)], { ...BENCH_ENV, BENCH_STORE: 'redis', BENCH_REDIS_CLUSTER: 'yes please' });
    t.not(notBoolean.status, 0, 'BENCH_REDIS_CLUSTER reaches the config');
  });
}

t.test('the chain benches\' configs, one filter added at a time, validate', async (t) => {
  const dir = tempDir('gw-test-chain-');
  for (let n = 0; n <= CHAIN_FILTERS.length; n++) {
    const file = path.join(dir, `config-${n}.yaml`);
    writeFileSync(file, chainConfig(n));
    const r = runCli(['validate', file], { ...BENCH_ENV, AI_GATEWAY_PORT: '8090' });
    t.equal(r.stdout.trim(), 'ok', `${n} filters: ${r.stderr}`);
  }
  t.match(chainConfig(CHAIN_FILTERS.length), /name: validator/, 'the last step has every filter');
});

t.test('bench/workers.ts\'s configs validate, two workers on the Redis store', async (t) => {
  const dir = tempDir('gw-test-workers-');
  for (const workers of [1, 2]) {
    const file = path.join(dir, `workers-${workers}.yaml`);
    writeFileSync(file, workersConfig(workers));
    const r = runCli(['validate', file], { ...BENCH_ENV, ...workersEnv('redis://127.0.0.1:6390') });
    t.equal(r.stdout.trim(), 'ok', `workers: ${workers}: ${r.stderr}`);
  }
  // Two workers on the memory store are refused: the store really is the one workersEnv names.
  const file = path.join(dir, 'workers-2.yaml');
  const memory = runCli(['validate', file], BENCH_ENV);
  t.match(memory.stderr, /server\.workers: 2 workers need the shared store/);
});
