/**
 * mulberry32: a small, fast PRNG that gives the same sequence on every machine, so a
 * randomized corpus is the same in every run (and a failure names a reproducible case).
 * @example
 * const rand = mulberry32(12);
 * rand(); // a number in [0, 1)
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
