/**
 * Filters' typed slots (`ctx.get` / `ctx.set`), kept in a flat key-value array rather than
 * a Map: each key finds its own value, a second set replaces, an unknown key reads undefined.
 */
import t from 'tap';
import { createKey } from '../../core/types.js';
import { contextWithBody } from '../helpers/context.js';

t.test('keys keep their own values, a set replaces, an unset key reads undefined', async (t) => {
  const ctx = contextWithBody(Buffer.alloc(0));
  const keys = Array.from({ length: 12 }, (_, i) => createKey<number>(`k${i}`));
  const sameName = createKey<number>('k0');
  t.equal(ctx.get(keys[0]), undefined, 'nothing set yet');
  keys.forEach((k, i) => ctx.set(k, i));
  keys.forEach((k, i) => t.equal(ctx.get(k), i));
  t.equal(ctx.get(sameName), undefined, 'a key is its object, not its name');
  ctx.set(keys[5], 50);
  t.equal(ctx.get(keys[5]), 50, 'a second set replaces');
  t.equal(ctx.get(keys[6]), 6, 'the others stay');
  const u = createKey<string | undefined>('u');
  ctx.set(u, undefined);
  t.equal(ctx.get(u), undefined, 'undefined can be stored');
  ctx.set(u, 'x');
  t.equal(ctx.get(u), 'x');
});
