/** What the in-process micro benchmarks share. */
import { median } from './proc.js';

/**
 * Each of `measures` taken `rounds` times, interleaved (a, b, …, a, b, …) so that the
 * machine's drift falls on all alike; the median of each, in order.
 * @example
 * const [before, after] = interleavedMedians(9, [() => nsPerCall(old), () => nsPerCall(now)]);
 */
export function interleavedMedians(rounds: number, measures: ReadonlyArray<() => number>): number[] {
  return interleavedRounds(rounds, measures).map(median);
}

/** Each of `measures` taken `rounds` times, interleaved as {@link interleavedMedians} does; every reading, in order. */
export function interleavedRounds<T>(rounds: number, measures: ReadonlyArray<() => T>): T[][] {
  const runs = measures.map((): T[] => []);
  for (let r = 0; r < rounds; r++) measures.forEach((measure, i) => runs[i].push(measure()));
  return runs;
}

/** µs per call of `f`, over enough calls to take ~50 ms. */
export function timed(f: () => unknown): number {
  return timedWithFaults(f).us;
}

/** A {@link timed} figure and the minor page faults the same calls took, per call. */
export interface Timing {
  us: number;
  faults: number;
}

/**
 * {@link timed}, counting the page faults too. On these VMs the first touch of a fresh page
 * costs ~10 µs, and glibc can hand a large buffer pages it gave back to the kernel: a call
 * that writes 100 KB into such a buffer then times 25 faults (~250 µs), not its own code.
 */
export function timedWithFaults(f: () => unknown): Timing {
  let calls = 1;
  for (;;) {
    const faults = process.resourceUsage().minorPageFault;
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) f();
    const ns = Number(process.hrtime.bigint() - start);
    if (ns > 50e6) return { us: ns / calls / 1000, faults: (process.resourceUsage().minorPageFault - faults) / calls };
    calls *= 2;
  }
}
