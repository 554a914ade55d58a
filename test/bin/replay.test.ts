import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseSince, replay } from '../../bin/replay.js';
import type { ReplayReport } from '../../bin/replay-engine.js';
import { verifyChain } from '../../filters/audit/verify.js';
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
