/**
 * The memory store's LRU starts small and grows; it must answer and evict exactly as one
 * LRU of the full bound would, across every growth step.
 */
import t from 'tap';
import { GrowingLru } from '../../core/stores/growing-lru.js';

/** The reference: a Map in recency order (a read moves its key to the end). */
class ReferenceLru {
  private readonly map = new Map<string, number>();
  constructor(private readonly max: number) {}
  get(k: string): number | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: number): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  get size(): number {
    return this.map.size;
  }
}

t.test('answers and evicts as one LRU of the full bound, through its growth', async (t) => {
  for (const max of [10, 1024, 3000, 20_000]) {
    const lru = new GrowingLru<string, number>(max);
    const ref = new ReferenceLru(max);
    let seed = max;
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    let differ = 0;
    let hits = 0;
    for (let i = 0; i < 60_000; i++) {
      // Keys from a space twice the bound, the recent ones more often: hits, misses, evictions.
      const k = `k${Math.floor(rand() < 0.5 ? rand() * max * 2 : (i % (max * 2)) * rand())}`;
      if (rand() < 0.6) {
        const got = lru.get(k);
        if (got !== ref.get(k)) differ++;
        if (got !== undefined) hits++;
      } else {
        lru.set(k, i);
        ref.set(k, i);
      }
      if (lru.size !== ref.size) differ++;
    }
    t.equal(differ, 0, `bound ${max}: the same answers and sizes`);
    t.ok(hits > 1000 && lru.size >= Math.min(max, 8193), `bound ${max}: ${hits} hits, ${lru.size} held (past each growth step it reaches)`);
  }
});
