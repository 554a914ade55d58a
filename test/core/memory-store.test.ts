import t from 'tap';
import { MemoryStore } from '../../core/stores/memory.js';
import type { AtomicScript } from '../../core/stores/types.js';

const DAY = 86_400_000;

/** Adds args[0] to keys[0] and keeps it for args[1] ms, as a per-period counter does. */
const add: AtomicScript<number> = {
  name: 'add',
  lua: '',
  local: (cells, args) => {
    const v = (cells.get(0) ?? 0) + args[0];
    cells.set(0, v, args[1]);
    return v;
  },
  parse: Number,
};

t.test('a long-lived group drops its expired per-period keys when it gains a new one', async (t) => {
  let now = 0;
  const store = new MemoryStore({ clock: () => now });
  for (let day = 0; day < 400; day++) {
    now = day * DAY;
    store.run(add, 'ws-a', [`d:${day}`], [1, 2 * DAY]);
  }
  // Today's and yesterday's keys are alive; 398 older days are gone.
  t.ok(store.keyCount('ws-a') <= 2, `keys held: ${store.keyCount('ws-a')}`);
});

t.test('sweeping keeps every live key and its value', async (t) => {
  let now = 0;
  const store = new MemoryStore({ clock: () => now });
  store.run(add, 'ws-a', ['long'], [5, 10 * DAY]);
  store.run(add, 'ws-a', ['short'], [7, 1000]);
  now = 2000;
  store.run(add, 'ws-a', ['fresh'], [1, DAY]); // a new key: sweeps `short`
  t.equal(store.keyCount('ws-a'), 2);
  t.equal(store.run(add, 'ws-a', ['long'], [0, 10 * DAY]), 5);
  t.equal(store.run(add, 'ws-a', ['short'], [0, 1000]), 0, 'the expired key reads as absent');
  t.equal(store.run(add, 'ws-a', ['fresh'], [0, DAY]), 1);
});

t.test('rewriting an existing key does not sweep (the hot path stays a lookup)', async (t) => {
  let now = 0;
  const store = new MemoryStore({ clock: () => now });
  store.run(add, 'ws-a', ['a'], [1, 1000]);
  store.run(add, 'ws-a', ['b'], [1, 10_000]);
  now = 5000; // `a` expired, never read again
  store.run(add, 'ws-a', ['b'], [1, 10_000]);
  t.equal(store.keyCount('ws-a'), 2, 'an expired key waits for the next new key');
});
