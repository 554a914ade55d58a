/**
 * How fast the host ran each trial, read from arms whose code does not change between
 * trials: the bare proxy's CPU a 1 KB request (at its max and at half load) and the mock
 * direct's 1 KB max. On these shared machines a trial can run at half the speed of the one
 * before; printed beside the targets' trial-by-trial readings, it says which trials ran on
 * a slow host.
 */
import type { ArmResults } from './targets.js';

/** One gauge of the host, trial by trial. */
export interface HostGauge {
  name: string;
  unit: string;
  trials: number[];
  /** Each trial against the quickest: 1.00 for the quickest, 1.75 for a trial that took 1.75 times as long. */
  slowdown: number[];
}

/** The gauges the run measured: a lower CPU, or a higher req/s, is a quicker host. */
export function hostGauges(results: ArmResults): HostGauge[] {
  const gauges: HostGauge[] = [];
  const gauge = (name: string, unit: 'µs' | 'req/s', trials: number[] | undefined): void => {
    if (!trials?.length) return;
    // A time grows on a slow host, a rate shrinks: either way, the slowdown is the time's ratio.
    const time = unit === 'µs' ? trials : trials.map((v) => 1 / v);
    const quickest = Math.min(...time);
    gauges.push({ name, unit, trials, slowdown: time.map((v) => v / quickest) });
  };
  gauge("the bare proxy's CPU a 1 KB request, at its max", 'µs', results.bare?.cpu_us_per_req_1k);
  // Measured minutes after the max: a trial's half-load rows can run on another host than its max rows.
  gauge("the bare proxy's CPU a 1 KB request, at half load", 'µs', results.bare?.cpu_us_per_req_1k_half);
  gauge("the mock direct's 1 KB max", 'req/s', results.direct?.rps_1k);
  return gauges;
}

/** `the bare proxy's CPU a 1 KB request, at its max: 90, 118, 158 µs (1.00, 1.31, 1.74 × the quickest trial's time)` */
export function hostLines(gauges: readonly HostGauge[]): string[] {
  return gauges.map(
    (g) => `  ${g.name}: ${g.trials.map((v) => Math.round(v).toLocaleString('en-US')).join(', ')} ${g.unit} (${g.slowdown.map((s) => s.toFixed(2)).join(', ')} × the quickest trial's time)`,
  );
}
