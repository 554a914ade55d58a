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

/** µs per call of `f`, over enough calls to take ~50 ms. */
export function timed(f: () => unknown): number {
  let calls = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) f();
    const ns = Number(process.hrtime.bigint() - start);
    if (ns > 50e6) return ns / calls / 1000;
    calls *= 2;
  }
}
