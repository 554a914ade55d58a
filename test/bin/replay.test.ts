import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseSince, replay } from '../../bin/replay.js';
import type { ReplayReport } from '../../bin/replay-engine.js';
import { verifyChain } from '../../filters/audit/verify.js';
import { writeConfig } from '../helpers/gateway.js';
import { recordedLine, replayReport, writeAuditLog } from '../helpers/recorded-audit.js';
import { tempDir } from '../helpers/temp-dir.js';

const FIX = path.join(import.meta.dirname, '..', 'fixtures', 'governance');
const AUDIT = path.join(FIX, 'audit.jsonl');
const PROPOSED = path.join(FIX, 'proposed.yaml');

async function run(args: string[]): Promise<{ code: number; out: string; report: ReplayReport }> {
  const json = path.join(tempDir('gw-replay-'), 'out.json');
  const out: string[] = [];
  const code = await replay(['--config', PROPOSED, '--audit', AUDIT, '--json', json, ...args], (s) => out.push(s), (s) => out.push(s));
  return { code, out: out.join(''), report: JSON.parse(readFileSync(json, 'utf8')) as ReplayReport };
}

t.test('the recorded fixture is itself a valid chained audit log', async (t) => {
  t.ok((await verifyChain([AUDIT])).ok);
});

t.test('replaying the fixture through the proposed config gives the known answer', async (t) => {
  const { code, out, report } = await run([]);
  t.equal(code, 0);
  t.equal(report.replayed, 13, 'every recorded AI request');
  t.equal(report.refused, 6);
  t.equal(report.newly_admitted, 1, "dave's recorded 429 would now pass");
  t.same(report.by_filter, { validator: 1, 'rate-limit': 2, auth: 2, budget: 1 });
  t.same(report.by_user, { bob: 2, alice: 2, carol: 2 });
  t.same(
    report.refusals.map((r) => [r.request_id, r.user, r.status, r.by]),
    [
      ['req-01', 'bob', 403, 'validator'], // gpt-4o outside bob's allowlist
      ['req-09', 'alice', 429, 'rate-limit'], // 4th and 5th call within a second each, limit 3/min
      ['req-10', 'alice', 429, 'rate-limit'],
      ['req-11', 'carol', 403, 'auth'], // ws-carol is not in the proposed workspaces
      ['req-12', 'carol', 403, 'auth'],
      ['req-05', 'bob', 403, 'budget'], // 3 × $0.006 spent, a 4th would pass $0.02
    ],
  );
  t.match(report.refusals[1], { at: '2026-02-04T10:02:03.000Z', recorded_status: 200, reason: /user over its requests per minute limit/ });
  t.match(report.refusals[5].reason, /daily budget of project "research" \(\$0\.02\) spent: \$0\.0180 \+ \$0\.0060/);
  t.same(report.budget_alerts.map((a) => [a.name, a.threshold_percent]), [['research', 50], ['research', 80]]);
  t.match(out, /replayed 13 requests .*: 6 would be refused, 1 refused before would now pass/);
  t.match(out, /TIME\s+USER\s+WORKSPACE\s+MODEL\s+WAS\s+NOW\s+BY\s+REASON/);
  t.match(out, /alice\s+ws-alice\s+claude-3-5-sonnet-20241022\s+200\s+429\s+rate-limit/);
  t.match(out, /by filter: validator 1, rate-limit 2, auth 2, budget 1/);
});

t.test('--since counts back from the newest line', async (t) => {
  const { report } = await run(['--since', '10m']);
  t.equal(report.replayed, 2, "only bob's last two calls");
  t.equal(report.refused, 0, 'a fresh budget admits both');
  t.equal(parseSince('7d'), 7 * 86_400_000);
  t.equal(parseSince('7x'), undefined);
  t.equal(await replay(['--config', PROPOSED, '--audit', AUDIT, '--since', 'soon'], () => {}, () => {}), 2);
  t.equal(await replay(['--audit', AUDIT], () => {}, () => {}), 2, 'usage error without --config');
});

t.test('the replayed rate limit counts cache reads as the live one does (count_cache_reads)', async (t) => {
  // Two calls in one minute, 200 tokens each plus 3000 cache reads, under 5000 a minute:
  // the second fits only if the cache reads are not counted.
  const dir = tempDir('gw-replay-cache-');
  const line = (timestamp: string) => recordedLine({ timestamp, provider: 'anthropic', model: 'claude-sonnet-4-5', tokens_in: 100, tokens_out: 100, cache_read_tokens: 3000 });
  const log = writeAuditLog(dir, [line('2026-02-04T10:00:00.000Z'), line('2026-02-04T10:00:10.000Z')]);
  for (const count of [true, false]) {
    const { file } = writeConfig(`server: { port: 0 }
providers:
  anthropic: { api_key: k }
filters:
  - name: auth
    config: { source: static }
  - name: rate-limit
    config: { count_cache_reads: ${count} }
workspaces:
  ws-a: { user: alice }
rate_limits:
  default: { tokens_per_minute: 5000 }
`, dir);
    const { code, out, report } = await replayReport(file, log);
    t.equal(code, 0, out);
    if (count) t.match(report!.refusals, [{ at: '2026-02-04T10:00:09.999Z', by: 'rate-limit', status: 429 }], 'counted: the second call is over the minute');
    else t.equal(report!.refused, 0, 'not counted: both fit');
  }
});

t.test('a Bedrock profile or ARN is allowed and priced by its base id, as the gateway did', async (t) => {
  // $0.25/$1.25 per MTok (the shipped haiku key): 10,000 in and 2,000 out is $0.005 a call,
  // so the second call passes a $0.008 budget only if the first went unpriced.
  const dir = tempDir('gw-replay-bedrock-');
  const base = 'anthropic.claude-3-haiku-20240307-v1:0';
  const line = (timestamp: string, model: string) => recordedLine({ timestamp, model, tokens_in: 10_000, tokens_out: 2_000 });
  const log = writeAuditLog(dir, [line('2026-02-04T10:00:00.000Z', `us.${base}`), line('2026-02-04T10:01:00.000Z', `arn:aws:bedrock:us-east-1::foundation-model/${base}`), line('2026-02-04T10:02:00.000Z', `arn:aws:bedrock:us-east-1:123456789012:custom-model/${base}/abc`)]);
  const { file } = writeConfig(`server: { port: 0 }
providers:
  bedrock: { region: us-east-1, access_key_id: AKIAREPLAY0000000001, secret_access_key: replaySecret/000000000000 }
filters:
  - name: auth
    config: { source: static }
  - name: budget
    config:
      users:
        alice: { daily_usd: 0.008, action: block }
  - name: validator
    config: { models: ["${base}", "arn:aws:bedrock:*:custom-model/*"] }
workspaces:
  ws-a: { user: alice }
`, dir);
  const { code, out, report } = await replayReport(file, log);
  t.equal(code, 0, out);
  t.same(report!.refusals.map((r) => [r.model, r.by]), [[`arn:aws:bedrock:us-east-1::foundation-model/${base}`, 'budget']], 'the profile allowed and priced; the ARN over the budget; the fine-tune unpriced');
});

t.test('--since on a log of 150,000 requests', async (t) => {
  const dir = tempDir('gw-replay-since-');
  const log = path.join(dir, 'audit.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < 150_000; i++) {
    const at = new Date(Date.UTC(2026, 1, 4, 10) + (i % 3000) * 1000).toISOString(); // 50 a second, 10:00:00 to 10:49:59
    lines.push(`{"timestamp":"${at}","event":"ai_request","user":"alice","workspace":"ws-a","provider":"anthropic","model":"claude-sonnet-4-5","tokens_in":1,"tokens_out":1,"latency_ms":1,"status":200}`);
  }
  writeFileSync(log, lines.join('\n') + '\n');
  const { file } = writeConfig('server: { port: 0 }\nproviders:\n  anthropic: { api_key: k }\nfilters:\n  - name: auth\n    config: { source: static }\nworkspaces:\n  ws-a: { user: alice }\n', dir);
  const out: string[] = [];
  t.equal(await replay(['--config', file, '--audit', log, '--since', '10m'], (s) => out.push(s), (s) => out.push(s)), 0, out.join(''));
  // 10 minutes back from the newest line (10:49:59) keeps 10:39:59 onwards: 601 seconds.
  t.match(out.join(''), /^replayed 30050 requests/, 'counted back from the newest line');
});

t.test('a config error that quotes a key the config holds prints *** in its place, as start and validate do', async (t) => {
  // The key pasted twice: as anthropic's api_key, and with the space after the colon
  // missing, which YAML reads as one unknown key named after the key itself.
  const key = 'sk-live-REPLAYKEY-0123456789';
  const { file } = writeConfig(`server: { port: 0, api_key:${key} }\nproviders:\n  anthropic: { api_key: "\${REPLAY_TEST_KEY}" }\n`);
  process.env.REPLAY_TEST_KEY = key;
  t.teardown(() => void delete process.env.REPLAY_TEST_KEY);
  const out: string[] = [];
  const err: string[] = [];
  t.equal(await replay(['--config', file, '--audit', AUDIT], (s) => out.push(s), (s) => err.push(s)), 1, 'the config cannot be read');
  const stderr = err.join('');
  t.match(stderr, 'server.api_key:***: unknown key "api_key:***"', stderr);
  t.notMatch(stderr, key);
  t.equal(out.join(''), '');
});
