/**
 * Issue #12's targets as checks of the gateway arm against the bare arm, read two ways: by
 * the arms' medians (the table's `g/b`) and trial by trial, where each trial's arms ran back
 * to back, so the host's drift between trials cancels. A run's reading — "met by the
 * medians, and in 2 of 3 trials" — then comes from the bench, not from arithmetic by hand.
 */
import { median } from './proc.js';
import { paddedTable } from './table.js';

/** What a target allows the gateway, in the figure's own unit (req/s, µs, ms, KiB, streams). */
export type TargetCheck =
  /** gateway ≥ `ratio` × bare */
  | { kind: 'at-least-times'; ratio: number }
  /** gateway ≤ `ratio` × bare */
  | { kind: 'at-most-times'; ratio: number }
  /** gateway − bare ≤ `added` */
  | { kind: 'at-most-added'; added: number }
  /** gateway ≤ `value`, whatever the bare arm read */
  | { kind: 'at-most'; value: number };

export interface Target {
  /** The figure's key in the run's results. */
  figure: string;
  /** What is measured; the report adds the check ({@link targetLabel}). */
  name: string;
  check: TargetCheck;
}

/** Each figure's values, one per trial, by arm. */
export type ArmResults = Record<string, Record<string, number[]>>;

/** The one place #12's targets are written: the bench's table and the targets' table both read them. */
export const TARGETS: readonly Target[] = [
  { figure: 'rps_1k', name: 'max req/s, 1 KB', check: { kind: 'at-least-times', ratio: 0.75 } },
  { figure: 'rps_100k', name: 'max req/s, 100 KB', check: { kind: 'at-least-times', ratio: 0.6 } },
  { figure: 'cpu_us_per_req_1k', name: 'CPU per request, 1 KB', check: { kind: 'at-most-times', ratio: 1.3 } },
  { figure: 'cpu_us_per_req_1k_half', name: 'CPU per request at 50% load', check: { kind: 'at-most-times', ratio: 1.3 } },
  { figure: 'lat_half_p50', name: 'latency at 50% load p50', check: { kind: 'at-most-added', added: 0.2 } },
  { figure: 'lat_half_p99', name: 'latency at 50% load p99', check: { kind: 'at-most-times', ratio: 1.3 } },
  { figure: 'stream_ttfb_p99', name: 'stream TTFB p99', check: { kind: 'at-most-added', added: 0.5 } },
  { figure: 'stream_gap_p99', name: 'stream frame gap p99', check: { kind: 'at-most-added', added: 0.05 } },
  { figure: 'stream_transit_p99', name: 'frame transit p99', check: { kind: 'at-most-added', added: 0.05 } },
  { figure: 'stream_frames_lost', name: 'streams with lost frames', check: { kind: 'at-most', value: 0 } },
  { figure: 'stream_frames_merged', name: 'streams with merged frames', check: { kind: 'at-most', value: 0 } },
  { figure: 'live_kib_fresh', name: 'live memory per held stream', check: { kind: 'at-most-times', ratio: 1.25 } },
  { figure: 'uni_rps', name: 'unified stream req/s', check: { kind: 'at-least-times', ratio: 0.6 } },
  { figure: 'uni_ttfb_p99', name: 'unified TTFB p99', check: { kind: 'at-most-added', added: 1 } },
];

/**
 * The check as the report writes it: `≥ 0.75 × bare`, `≤ bare + 0.2 ms`, `≤ bare + 50 µs`,
 * `= 0`. Every difference target here is of a figure in ms.
 */
export function describeCheck(check: TargetCheck): string {
  switch (check.kind) {
    case 'at-least-times':
      return `≥ ${check.ratio} × bare`;
    case 'at-most-times':
      return `≤ ${check.ratio} × bare`;
    case 'at-most-added':
      return `≤ bare + ${check.added < 0.1 ? `${Math.round(check.added * 1000)} µs` : `${check.added} ms`}`;
    case 'at-most':
      return check.value === 0 ? '= 0' : `≤ ${check.value}`;
  }
}

/** `figure`'s target as the report writes it; '' for a figure #12 sets none. */
export function targetFor(figure: string): string {
  const target = TARGETS.find((t) => t.figure === figure);
  return target ? describeCheck(target.check) : '';
}

/** A target as its row of the targets' table names it: `stream TTFB p99 ≤ bare + 0.5 ms`. */
export function targetLabel(target: Target): string {
  return `${target.name} ${describeCheck(target.check)}`;
}

/** How the gateway read against the bare arm: a ratio, a difference, or its own value. */
export function against(check: TargetCheck, gateway: number, bare: number): number {
  switch (check.kind) {
    case 'at-least-times':
    case 'at-most-times':
      return gateway / bare;
    case 'at-most-added':
      return gateway - bare;
    case 'at-most':
      return gateway;
  }
}

/** Whether {@link against}'s reading meets the check. */
export function meets(check: TargetCheck, reading: number): boolean {
  switch (check.kind) {
    case 'at-least-times':
      return reading >= check.ratio;
    case 'at-most-times':
      return reading <= check.ratio;
    case 'at-most-added':
      return reading <= check.added;
    case 'at-most':
      return reading <= check.value;
  }
}

export interface TargetReading {
  target: Target;
  /** One reading a trial (a figure the run did not measure has no reading at all). */
  trials: number[];
  /** The reading of the arms' medians. */
  medians: number;
  metByMedians: boolean;
  metTrials: number;
}

/** Every target the run measured, read by the arms' medians and trial by trial. */
export function readTargets(results: ArmResults, targets: readonly Target[] = TARGETS): TargetReading[] {
  const readings: TargetReading[] = [];
  for (const target of targets) {
    const g = results.gateway?.[target.figure] ?? [];
    const b = results.bare?.[target.figure] ?? [];
    if (g.length === 0 || (target.check.kind !== 'at-most' && b.length !== g.length)) continue;
    const trials = g.map((v, i) => against(target.check, v, b[i] ?? NaN));
    const medians = against(target.check, median(g), b.length > 0 ? median(b) : NaN);
    readings.push({ target, trials, medians, metByMedians: meets(target.check, medians), metTrials: trials.filter((r) => meets(target.check, r)).length });
  }
  return readings;
}

/** A reading as the report prints it: ratios to 2 places, differences in the figure's unit to 3, signed. */
export function formatReading(check: TargetCheck, reading: number): string {
  if (!Number.isFinite(reading)) return '–';
  if (check.kind === 'at-most-added') return `${reading >= 0 ? '+' : '−'}${Math.abs(reading).toFixed(3)}`;
  if (check.kind === 'at-most') return String(Math.round(reading));
  return reading.toFixed(2);
}

/** The targets as a markdown table: each trial's reading, the medians', and how many trials met it. */
export function targetTable(readings: readonly TargetReading[]): string[] {
  const trials = Math.max(0, ...readings.map((r) => r.trials.length));
  const header = ['target (gateway against bare)', ...Array.from({ length: trials }, (_, i) => `trial ${i + 1}`), 'medians', 'met'];
  const rows = readings.map((r) => [
    targetLabel(r.target),
    ...Array.from({ length: trials }, (_, i) => formatReading(r.target.check, r.trials[i] ?? NaN)),
    formatReading(r.target.check, r.medians),
    `${r.metByMedians ? '✓' : '✗'} by the medians, ${r.metTrials} of ${r.trials.length} trial${r.trials.length === 1 ? '' : 's'}`,
  ]);
  return paddedTable(header, rows);
}

/**
 * The run in one line: how many targets the arms' medians met, and how many were met in most
 * trials (each trial's arms ran back to back, so a trial on a slow host counts once).
 */
export function targetSummary(readings: readonly TargetReading[]): string {
  const byMedians = readings.filter((r) => r.metByMedians).length;
  const byMostTrials = readings.filter((r) => r.metTrials * 2 > r.trials.length).length;
  return `targets met by the medians: ${byMedians} of ${readings.length}; in most trials: ${byMostTrials} of ${readings.length}`;
}
