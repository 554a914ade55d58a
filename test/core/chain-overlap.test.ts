/**
 * Independent filters overlap: while one waits on its store, the independent filters right
 * after it start at once, so their round trips go out together. Verdicts are still taken
 * in config order: the first refusal is the reply, later verdicts are dropped, and a
 * dropped failure never becomes an unhandled rejection.
 */
import t from 'tap';
import { Chain, CONTINUE, reply, type FilterSlot } from '../../core/chain.js';
import { GatewayError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import type { Filter, FilterVerdict } from '../../core/types.js';
import { contextWithBody } from '../helpers/context.js';

type Answer = 'continue' | 'refuse' | 'throw';

/** A filter that records when its `onRequest` starts and answers after `delayMs` (sync when undefined). */
function filter(name: string, events: string[], options: { answer?: Answer; delayMs?: number; independent?: boolean; throwSync?: boolean } = {}): FilterSlot {
  const { answer = 'continue', delayMs, independent = true, throwSync = false } = options;
  const decide = (): FilterVerdict => {
    events.push(`${name}:answer`);
    if (answer === 'throw') throw new Error(`${name} failed`);
    return answer === 'refuse' ? reply(new GatewayError('GW_ERR_RATE_LIMITED', `${name} refused`)) : CONTINUE;
  };
  const f: Filter = {
    independent,
    onRequest() {
      events.push(`${name}:start`);
      if (throwSync) throw new Error(`${name} threw`);
      if (delayMs === undefined) return decide();
      return new Promise<FilterVerdict>((resolve, reject) => setTimeout(() => {
        try {
          resolve(decide());
        } catch (err) {
          reject(err);
        }
      }, delayMs));
    },
  };
  return { name, filter: f };
}

async function run(slots: FilterSlot[]) {
  const ctx = contextWithBody(Buffer.from('{}'));
  const verdict = await new Chain(slots, silentLogger).runRequest(ctx);
  return { verdict, ctx };
}

t.test('an independent filter starts while the one before it waits; both verdicts taken in order', async (t) => {
  const events: string[] = [];
  const { verdict, ctx } = await run([filter('a', events, { delayMs: 20 }), filter('b', events, { delayMs: 5 }), filter('c', events, { independent: false })]);
  t.equal(verdict, undefined, 'admitted');
  t.same(events, ['a:start', 'b:start', 'b:answer', 'a:answer', 'c:start', 'c:answer'], 'b went out with a; c, not independent, after both');
  t.equal(ctx.admitted, 3);
});

t.test('a run of independent filters all start together', async (t) => {
  const events: string[] = [];
  await run([filter('a', events, { delayMs: 10 }), filter('b', events, { delayMs: 10 }), filter('c', events, { delayMs: 10 })]);
  t.same(events.slice(0, 3), ['a:start', 'b:start', 'c:start']);
});

t.test('the first refusal in config order is the reply; what came after it is dropped', async (t) => {
  const events: string[] = [];
  const { verdict, ctx } = await run([filter('a', events, { delayMs: 10, answer: 'refuse' }), filter('b', events, { delayMs: 1, answer: 'refuse' })]);
  t.equal(verdict?.error?.message, 'a refused', "a's refusal, though b answered first");
  t.equal(ctx.repliedBy, 'a');
  t.equal(ctx.admitted, 0, 'onResponse runs for no filter');

  const later = await run([filter('a', [], { delayMs: 1 }), filter('b', [], { delayMs: 5, answer: 'refuse' }), filter('c', [], { independent: false })]);
  t.equal(later.ctx.repliedBy, 'b', 'a later refusal replies once the filters before it continued');
  t.equal(later.ctx.admitted, 1);
});

t.test('a refusal is returned only once the filters started alongside have answered', async (t) => {
  const events: string[] = [];
  const ctx = contextWithBody(Buffer.from('{}'));
  const chain = new Chain([filter('a', events, { delayMs: 1, answer: 'refuse' }), filter('b', events, { delayMs: 30 })], silentLogger);
  const verdict = await chain.runRequest(ctx);
  events.push('replied');
  t.equal(verdict?.error?.message, 'a refused');
  t.same(events, ['a:start', 'b:start', 'a:answer', 'b:answer', 'replied'], "b's onComplete will see what its onRequest did");
});

t.test('failures: a dropped one is never an unhandled rejection, a taken one is a 500', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));

  const dropped = await run([filter('a', [], { delayMs: 10, answer: 'refuse' }), filter('b', [], { delayMs: 1, answer: 'throw' }), filter('c', [], { throwSync: true })]);
  t.equal(dropped.ctx.repliedBy, 'a');
  const taken = await run([filter('a', [], { delayMs: 1 }), filter('b', [], { delayMs: 1, answer: 'throw' })]);
  t.equal(taken.ctx.repliedBy, 'b');
  t.equal(taken.verdict?.error?.code, 'GW_ERR_INTERNAL');
  const thrown = await run([filter('a', [], { delayMs: 1 }), filter('b', [], { throwSync: true })]);
  t.equal(thrown.ctx.repliedBy, 'b', 'a synchronous throw ahead is taken in its turn');
  t.equal(thrown.verdict?.error?.code, 'GW_ERR_INTERNAL');
  await new Promise((r) => setTimeout(r, 20));
  t.same(unhandled, [], 'no unhandled rejection');
});

t.test('no overlap when the first answers at once, or when either is not independent', async (t) => {
  const sync: string[] = [];
  await run([filter('a', sync), filter('b', sync, { delayMs: 1 })]);
  t.same(sync, ['a:start', 'a:answer', 'b:start', 'b:answer'], 'a memory-store answer: nothing to overlap');
  const first: string[] = [];
  await run([filter('a', first, { delayMs: 5, independent: false }), filter('b', first, { delayMs: 1 })]);
  t.same(first, ['a:start', 'a:answer', 'b:start', 'b:answer'], 'a not independent');
  const second: string[] = [];
  await run([filter('a', second, { delayMs: 5 }), filter('b', second, { delayMs: 1, independent: false })]);
  t.same(second, ['a:start', 'a:answer', 'b:start', 'b:answer'], 'b not independent');
});
