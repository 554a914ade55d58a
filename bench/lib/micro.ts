/** What the in-process micro benchmarks share. */
import { median } from './proc.js';

/**
 * Each of `measures` taken `rounds` times, interleaved (a, b, …, a, b, …) so that the
 * machine's drift falls on all alike; the median of each, in order.
 * @example
 * const [before, after] = interleavedMedians(9, [() => nsPerCall(old), () => nsPerCall(now)]);
 */
export function interleavedMedians(rounds: number, measures: ReadonlyArray<() => number>): number[] {
  const runs = measures.map((): number[] => []);
  for (let r = 0; r < rounds; r++) measures.forEach((measure, i) => runs[i].push(measure()));
  return runs.map(median);
}
