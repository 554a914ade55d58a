/**
 * Issue #12's targets read trial by trial (bench/lib/targets.ts), on run AT's own per-trial
 * figures (bench/results/latest.json of 2026-12-07 14:20 UTC): the readings the README's
 * latest-run section gives by hand.
 */
import t from 'tap';
import { against, formatReading, meets, readTargets, targetSummary, targetTable, TARGETS, type ArmResults } from '../../bench/lib/targets.js';

/** Figure: the bare proxy's trials, then the gateway's. */
const RUN_AT_TRIALS: Record<string, [bare: number[], gateway: number[]]> = {
  rps_1k: [[9400.75, 7639.5, 9053], [8372, 7764.5, 8526]],
  lat_half_p50: [[1.117, 0.538, 0.521], [106.439, 0.712, 0.699]],
  stream_ttfb_p99: [[32.309, 35.379, 33.027], [27.641, 29.635, 29.16]],
  stream_gap_p99: [[10.063, 8.058, 8.18], [9.846, 8.35, 7.278]],
  stream_frames_merged: [[42, 32, 22], [64, 0, 0]],
  uni_ttfb_p99: [[38.832, 34.486, 26.868], [54.945, 32.422, 31.086]],
};
const RUN_AT: ArmResults = { direct: { rps_1k: [18008.5, 9230, 13835.5] }, bare: {}, gateway: {} };
for (const [figure, [bare, gateway]] of Object.entries(RUN_AT_TRIALS)) {
  RUN_AT.bare[figure] = bare;
  RUN_AT.gateway[figure] = gateway;
}

const byFigure = (figure: string) => readTargets(RUN_AT).find((r) => r.target.figure === figure)!;

t.test('each target is read by the medians and trial by trial', async (t) => {
  const rps = byFigure('rps_1k');
  t.same(rps.trials.map((r) => r.toFixed(3)), ['0.891', '1.016', '0.942'], 'g/b of each trial');
  t.equal(rps.medians.toFixed(3), '0.925', 'the medians: 8,372 / 9,053');
  t.ok(rps.metByMedians);
  t.equal(rps.metTrials, 3);

  const half = byFigure('lat_half_p50');
  t.equal(half.medians.toFixed(3), '0.174', 'p50 0.712 − 0.538 ms');
  t.ok(half.metByMedians, '+0.174 ≤ +0.2');
  t.equal(half.metTrials, 2, 'the first trial queued (+105 ms)');

  const gap = byFigure('stream_gap_p99');
  t.notOk(gap.metByMedians, '+0.170 ms > +50 µs by the medians');
  t.equal(gap.metTrials, 2, 'while two trials read under the bare proxy');

  const uni = byFigure('uni_ttfb_p99');
  t.ok(uni.metByMedians, '−2.064 ms');
  t.equal(uni.metTrials, 1, 'only the second trial');

  const merged = byFigure('stream_frames_merged');
  t.equal(merged.medians, 0, "the gateway's own count, not against the bare proxy's");
  t.ok(merged.metByMedians);
  t.equal(merged.metTrials, 2);
});

t.test('a target the run did not measure, or measured unevenly, is left out', async (t) => {
  const figures = readTargets(RUN_AT).map((r) => r.target.figure);
  t.notOk(figures.includes('rps_100k'), 'no figure in either arm');
  const uneven = readTargets({ bare: { rps_1k: [1, 2, 3] }, gateway: { rps_1k: [1, 2] } });
  t.same(uneven, [], 'no trial to pair with');
  t.equal(readTargets({ gateway: { stream_frames_lost: [0, 0, 0] } }).length, 1, "an absolute target needs no bare arm");
});

t.test('the checks at their edges', async (t) => {
  t.ok(meets({ kind: 'at-least-times', ratio: 0.75 }, 0.75));
  t.notOk(meets({ kind: 'at-least-times', ratio: 0.75 }, 0.7499));
  t.ok(meets({ kind: 'at-most-added', added: 0.5 }, 0.5));
  t.notOk(meets({ kind: 'at-most-added', added: 0.5 }, 0.5001));
  t.equal(against({ kind: 'at-most-times', ratio: 1.3 }, 130, 100), 1.3);
  t.equal(formatReading({ kind: 'at-most-added', added: 1 }, -2.0641), '−2.064');
  t.equal(formatReading({ kind: 'at-most-added', added: 1 }, 0.17), '+0.170');
  t.equal(TARGETS.length, new Set(TARGETS.map((x) => x.figure)).size, 'one target a figure');
});

t.test('the table: a column a trial, the medians, and the count', async (t) => {
  const lines = targetTable(readTargets(RUN_AT));
  t.match(lines[0], /^\| target \(gateway against bare\) +\| trial 1 +\| trial 2 +\| trial 3 +\| medians +\| met +\|$/);
  const gap = lines.find((l) => l.startsWith('| stream frame gap p99'))!;
  t.match(gap, /\| −0\.217 +\| \+0\.292 +\| −0\.902 +\| \+0\.170 +\| ✗ by the medians, 2 of 3 trials/);
  t.equal(new Set(lines.map((l) => l.length)).size, 1, 'columns padded to one width');
  const one = targetTable(readTargets({ bare: { rps_1k: [100] }, gateway: { rps_1k: [80] } }));
  t.match(one[2], /\| 0\.80 +\| 0\.80 +\| ✓ by the medians, 1 of 1 trial \|$/, 'a quick run: one trial');
});

t.test('the run in one line', async (t) => {
  // Run AT's six figures here: the frame gap missed by the medians, the unified TTFB met by them in one trial only.
  t.equal(targetSummary(readTargets(RUN_AT)), 'targets met by the medians: 5 of 6; in most trials: 5 of 6');
  const split = readTargets({ bare: { rps_1k: [100, 100, 100, 100] }, gateway: { rps_1k: [80, 80, 70, 70] } });
  t.equal(targetSummary(split), 'targets met by the medians: 1 of 1; in most trials: 0 of 1', 'two of four trials is not most');
});
