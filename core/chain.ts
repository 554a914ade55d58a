/**
 * The filter-chain executor. Hook lists are computed once per compiled chain; a hook that
 * returns a plain value continues synchronously, so an all-sync chain allocates no promise.
 */
import { GatewayError, toGatewayError } from './errors.js';
import type { Context } from './context.js';
import type { Logger } from './logger.js';
import type { Filter, FilterVerdict, MaybePromise, Outcome, ReplyVerdict, ResponseHead } from './types.js';

/** A named filter instance in a chain. */
export interface FilterSlot {
  readonly name: string;
  readonly filter: Filter;
}

export const CONTINUE: FilterVerdict = Object.freeze({ action: 'continue' });

/** Answer with an error in the route's dialect. */
export function reply(error: GatewayError): ReplyVerdict {
  return { action: 'reply', error };
}

function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export class Chain {
  readonly slots: readonly FilterSlot[];
  /** How many filters at the head of the chain declare `beforeParse` (or have no `onRequest`): they run before the body is parsed. */
  readonly beforeParse: number;
  private readonly completers: readonly FilterSlot[];

  constructor(slots: readonly FilterSlot[], private readonly log: Logger) {
    this.slots = slots;
    let head = 0;
    // A filter without onRequest reads nothing: it does not end the early run.
    while (head < slots.length && (slots[head].filter.beforeParse === true || !slots[head].filter.onRequest)) head++;
    this.beforeParse = head;
    this.completers = slots.filter((s) => s.filter.onComplete);
  }

  /**
   * Run `onRequest` in order, filters [from, until); resolves to a reply (with
   * `ctx.repliedBy` set) or undefined to go on.
   */
  runRequest(ctx: Context, from = 0, until = this.slots.length): MaybePromise<ReplyVerdict | undefined> {
    const slots = this.slots;
    for (let i = from; i < until; i++) {
      const slot = slots[i];
      const hook = slot.filter.onRequest;
      if (!hook) {
        ctx.admitted = i + 1;
        continue;
      }
      let verdict: ReturnType<NonNullable<Filter['onRequest']>>;
      try {
        verdict = hook.call(slot.filter, ctx);
      } catch (err) {
        return this.replyFrom(slot, ctx, failure(err, slot, ctx, this.log));
      }
      if (verdict === undefined) {
        ctx.admitted = i + 1;
        continue;
      }
      if (isPromise<FilterVerdict | void>(verdict)) {
        if (slot.filter.independent && i + 1 < until && slots[i + 1].filter.independent) return this.overlap(ctx, i, verdict, until);
        return verdict.then(
          (v) => {
            const refusal = refusalOf(v, slot, ctx, this.log);
            if (refusal) return this.replyFrom(slot, ctx, refusal);
            ctx.admitted = i + 1;
            return this.runRequest(ctx, i + 1, until);
          },
          (err: unknown) => this.replyFrom(slot, ctx, failure(err, slot, ctx, this.log)),
        );
      }
      const refusal = refusalOf(verdict, slot, ctx, this.log);
      if (refusal) return this.replyFrom(slot, ctx, refusal);
      ctx.admitted = i + 1;
    }
    return undefined;
  }

  /**
   * Filter `at` answers later and is independent: start the independent filters right
   * after it now, so that their store round trips go with its own instead of after it,
   * then take the verdicts in config order. A verdict after a refusal is dropped, but
   * waited for: those filters' `onComplete` then makes good what they did.
   */
  private async overlap(ctx: Context, at: number, first: Promise<FilterVerdict | void>, until: number): Promise<ReplyVerdict | undefined> {
    const slots = this.slots;
    const verdicts: Array<MaybePromise<FilterVerdict | void>> = [first];
    let next = at + 1;
    for (; next < until && slots[next].filter.independent; next++) {
      let verdict: MaybePromise<FilterVerdict | void>;
      try {
        verdict = slots[next].filter.onRequest?.(ctx);
      } catch (err) {
        verdict = Promise.reject(err);
      }
      if (isPromise<FilterVerdict | void>(verdict)) verdict.then(undefined, ignore); // answered below, or dropped after a refusal
      verdicts.push(verdict);
    }
    for (let k = 0; k < verdicts.length; k++) {
      const slot = slots[at + k];
      let refusal: ReplyVerdict | undefined;
      try {
        refusal = refusalOf(await verdicts[k], slot, ctx, this.log);
      } catch (err) {
        refusal = failure(err, slot, ctx, this.log);
      }
      if (refusal) {
        // The reply waits for the rest: their onComplete must see what their onRequest did.
        await Promise.allSettled(verdicts.slice(k + 1));
        return this.replyFrom(slot, ctx, refusal);
      }
      ctx.admitted = at + k + 1;
    }
    return this.runRequest(ctx, next, until);
  }

  /** Run `onResponse` for the filters that admitted the request. */
  runResponse(ctx: Context, head: ResponseHead): MaybePromise<void> {
    for (let i = 0; i < ctx.admitted; i++) {
      const slot = this.slots[i];
      if (!slot.filter.onResponse) continue;
      let r: void | Promise<void>;
      try {
        r = slot.filter.onResponse(ctx, head);
      } catch (err) {
        this.log.error('filter onResponse failed', { filter: slot.name, request_id: ctx.id, err });
        continue;
      }
      if (isPromise<void>(r)) return r.then(
        () => this.runResponseFrom(ctx, head, i + 1),
        (err: unknown) => (this.log.error('filter onResponse failed', { filter: slot.name, request_id: ctx.id, err }), this.runResponseFrom(ctx, head, i + 1)),
      );
    }
  }

  private async runResponseFrom(ctx: Context, head: ResponseHead, from: number): Promise<void> {
    for (let i = from; i < ctx.admitted; i++) {
      const slot = this.slots[i];
      if (!slot.filter.onResponse) continue;
      try {
        await slot.filter.onResponse(ctx, head);
      } catch (err) {
        this.log.error('filter onResponse failed', { filter: slot.name, request_id: ctx.id, err });
      }
    }
  }

  /** Every filter's `onComplete`, each isolated from the others' failures. */
  runComplete(ctx: Context, outcome: Outcome): void {
    for (const slot of this.completers) {
      try {
        slot.filter.onComplete!(ctx, outcome);
      } catch (err) {
        this.log.error('filter onComplete failed', { filter: slot.name, request_id: ctx.id, err });
      }
    }
  }

  async close(): Promise<void> {
    for (const slot of this.slots) {
      try {
        await slot.filter.close?.();
      } catch (err) {
        this.log.error('filter close failed', { filter: slot.name, err });
      }
    }
  }

  private replyFrom(slot: FilterSlot, ctx: Context, verdict: ReplyVerdict): ReplyVerdict {
    ctx.repliedBy = slot.name;
    return verdict;
  }
}

function ignore(): void {}

/**
 * A hook's answer as the chain takes it: undefined to go on, a reply to stop. Anything else
 * (a mistyped action, `false`, `reply` itself uncalled: plain JavaScript plugins are not
 * type-checked) is a broken filter and answers as an internal error: taking it for
 * "continue" would let a policy filter's mistake admit every request.
 */
function refusalOf(verdict: unknown, slot: FilterSlot, ctx: Context, log: Logger): ReplyVerdict | undefined {
  if (verdict === undefined) return undefined;
  const action = typeof verdict === 'object' && verdict !== null ? (verdict as { action?: unknown }).action : undefined;
  if (action === 'continue') return undefined;
  if (action === 'reply') {
    const replied = verdict as ReplyVerdict;
    // An error the dialects cannot render (a plain Error) would fail the reply itself.
    if (replied.error === undefined || replied.error instanceof GatewayError) return replied;
    log.error('filter replied with an error that is not a GatewayError', { filter: slot.name, request_id: ctx.id, err: replied.error });
    return reply(toGatewayError(replied.error));
  }
  log.error('filter onRequest returned no verdict', { filter: slot.name, request_id: ctx.id, returned: describe(verdict), expected: 'nothing, CONTINUE or reply(…)' });
  return reply(new GatewayError('GW_ERR_INTERNAL'));
}

/** What a hook returned, for the log: its type, and an object's `action`. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const action = (value as { action?: unknown }).action;
  return action === undefined ? 'an object without action' : `an object with action ${JSON.stringify(action) ?? typeof action}`;
}

function failure(err: unknown, slot: FilterSlot, ctx: Context, log: Logger): ReplyVerdict {
  if (!(err instanceof GatewayError)) log.error('filter onRequest threw', { filter: slot.name, request_id: ctx.id, err });
  return reply(toGatewayError(err));
}
