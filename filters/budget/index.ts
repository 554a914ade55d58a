/**
 * `budget`: USD budgets per user, project and globally, by day and by month. Admission
 * reserves the request's worst-case cost (input estimated from the body, output at its
 * token cap for each completion it asks for, at the model's price) in every blocking
 * budget it counts against, in the shared store, one script run per store group (a user's
 * day and month together); completion releases the reservation and adds the real cost. A spent budget with
 * `action: block` refuses with a non-retryable 403 in the caller's dialect (Anthropic
 * `permission_error`, OpenAI `insufficient_quota`, `x-should-retry: false`); thresholds
 * alert once per period. Place it right after `rate-limit`: on a shared store its reserves
 * then go out with the rate limiter's (both are `independent`), and settlements are summed
 * per budget period and sent together every few milliseconds (core's `DelayedBatch`).
 */
import {
  CONTINUE, createKey, defineError, delayedBatchFor, GatewayError, onLateResult, reply, STORE_READY_MS, storeFor, StoreUnavailableError, worstCaseOutputTokens,
  type Filter, type FilterPlugin, type FilterVerdict, type MaybePromise, type Outcome, type PluginEnv, type RequestContext, type Store,
} from '../../core/index.js';
import { completionTime, priceBookFor, providerKeys, requestCost } from '../cost/accounting.js';
import { costNanos, nanosToUsd } from '../cost/price-book.js';
import { Alerter } from './alerts.js';
import { Budgets, configSchema, PeriodClock, type Budget, type BudgetConfig, type PeriodSpan } from './config.js';
import { budgetScript, Mode, reserveScript, type BudgetState, type Reservation } from './script.js';

defineError('GW_ERR_BUDGET_EXCEEDED', { status: 403, category: 'quota', kind: 'rejected', message: 'The budget for this request is spent' });
defineError('GW_ERR_BUDGET_UNPRICED', { status: 403, category: 'permission', kind: 'rejected', message: 'This model has no price, and budgets here refuse unpriced models' });
defineError('GW_ERR_BUDGET_UNAVAILABLE', { status: 503, category: 'unavailable', kind: 'unavailable', message: 'Budgets cannot be checked right now' });

/** What a settlement names: a budget and the period its counters are in. */
interface Target {
  readonly budget: Budget;
  readonly span: PeriodSpan;
}

/** A reservation held by one admitted request. */
interface Held extends Target {
  readonly nanos: number;
}
const HELD = createKey<Held[]>('budget.held');
/** The budget that refused; counted and logged when the refusal is the reply the client got. */
const REFUSED = createKey<Budget>('budget.refused');

/** Settlements of one budget period summed while a batch waits. */
interface PendingCommit {
  target: Target;
  actual: number;
  release: number;
}

/** Estimates outlive a request by this much at most: a crashed replica's holds expire. */
const HELD_TTL_MS = 15 * 60_000;
const PERIOD_SLACK_MS = 86_400_000;
/**
 * On a shared store, settlements (the real cost, the estimate released) are summed per
 * budget period for this long and sent together: under load one round trip per budget
 * per 5 ms instead of one per request and budget. Admission stays exact: until a batch is
 * sent, the estimates it releases still count against the budget.
 */
const COMMIT_DELAY_MS = 5;
const PEEK = [Mode.Peek];

function all<T>(items: MaybePromise<T>[]): MaybePromise<T[]> {
  return items.some((i) => i instanceof Promise) ? Promise.all(items) : (items as T[]);
}

/**
 * Whether `budget` is one the request reserved in. By name, not identity: the lists of
 * `default_user` / `default_project` budgets can be made again between a request's start
 * and its end.
 */
function isHeld(held: readonly Held[], budget: Budget): boolean {
  for (const h of held) if (h.budget.scope === budget.scope && h.budget.name === budget.name && h.budget.period === budget.period) return true;
  return false;
}

async function createBudget(config: BudgetConfig, env: PluginEnv): Promise<Filter> {
  const budgets = new Budgets(config);
  if (budgets.empty) return {}; // nothing configured: a no-op in the chain
  const store: Store = storeFor(env);
  if (!(await store.ready(STORE_READY_MS))) env.log.warn('budget store not ready; requests follow its fail mode until it is', { store: store.type, fail_mode: store.failMode });
  const book = priceBookFor(env);
  const alerter = new Alerter(config.webhook?.url ? config.webhook : undefined, env.log, env.metrics);
  // An unpriced refusal counts as period "unpriced": the label set stays {scope, period}
  // for the alert rules and dashboards that sum by them, and the value says why.
  const rejections = env.metrics.counter({ name: 'gateway_budget_rejections_total', help: 'Requests refused by a block budget, by scope and period (period="unpriced": a model with no price under unpriced: refuse)', labelNames: ['scope', 'period'] });

  const periods = new PeriodClock();

  /** The request's worst-case cost, or undefined when its model has no price. */
  const estimate = (ctx: RequestContext): number | undefined => {
    // ctx.provider: on the unified endpoint the route names none; the chosen provider prices it.
    const match = book.lookup(providerKeys(env.config, ctx.provider), ctx.model, ctx.baseModel);
    if (!match) return undefined;
    const input = Math.ceil(ctx.body.length / config.bytes_per_token);
    // Every completion it asks for (`n`) may run to the cap.
    return costNanos(match.price, { inputTokens: input, outputTokens: worstCaseOutputTokens(ctx, config.default_output_tokens), cacheCreationTokens: 0, cacheReadTokens: 0 });
  };

  /** Releases `release` held and adds `actual` spent in one budget period; announces thresholds crossed. */
  const send = ({ budget: b, span }: Target, actual: number, release: number): Promise<void> | undefined => {
    const args = [Mode.Commit, actual, release, span.end.getTime() - Date.now() + PERIOD_SLACK_MS, HELD_TTL_MS, ...b.thresholdNanos];
    const announce = (s: BudgetState): void => {
      for (let i = s.firedBefore; i < s.firedNow; i++) alerter.fire({ budget: b, threshold: b.thresholds[i], periodStart: span.start, periodEnd: span.end, spentUsd: nanosToUsd(s.spent) });
    };
    const failed = (err: unknown): void => env.log.warn('budget commit failed', { scope: b.scope, name: b.name, err });
    try {
      const r = store.run(budgetScript, b.group, span.keys, args);
      if (r instanceof Promise) return r.then(announce, failed);
      announce(r);
    } catch (err) {
      failed(err);
    }
  };

  const batch = delayedBatchFor<PendingCommit>(store, {
    delayMs: COMMIT_DELAY_MS,
    merge: (into, next) => {
      into.target = next.target;
      into.actual += next.actual;
      into.release += next.release;
    },
    send: ({ target, actual, release }) => (actual === 0 && release === 0 ? undefined : send(target, actual, release)),
    onError: (err) => env.log.warn('budget commit failed', { err }),
  });

  const commit = (h: Target, actual: number, release: number): void => {
    if (batch) batch.add(`${h.budget.group}|${h.span.id}`, { target: h, actual, release });
    else void send(h, actual, release);
  };

  const refuse = (ctx: RequestContext, b: Budget, end: Date): FilterVerdict => {
    ctx.set(REFUSED, b);
    const who = b.scope === 'global' ? 'the gateway' : `${b.scope} "${b.name}"`;
    const message = `The ${b.period === 'day' ? 'daily' : 'monthly'} budget of ${who} ($${b.limitUsd >= 0.01 ? b.limitUsd.toFixed(2) : String(b.limitUsd)}) is spent or would be exceeded by this request; it resets at ${end.toISOString()}`;
    return reply(new GatewayError('GW_ERR_BUDGET_EXCEEDED', message, { headers: { 'x-should-retry': 'false' } }));
  };

  /** `narrowest`: the caller's first blocking budget (user, then project, then global), the metric's scope. */
  const refuseUnpriced = (ctx: RequestContext, narrowest: Budget): FilterVerdict => {
    ctx.set(REFUSED, narrowest);
    const model = ctx.model === undefined ? 'The request names no model, so it' : `Model "${ctx.model}"`;
    const message = `${model} has no price in the gateway's price book, and budgets here refuse unpriced models (budget filter: unpriced: refuse)`;
    return reply(new GatewayError('GW_ERR_BUDGET_UNPRICED', message, { headers: { 'x-should-retry': 'false' } }));
  };

  const onStoreFailure = (err: unknown): FilterVerdict => {
    if (!(err instanceof StoreUnavailableError)) throw err;
    if (store.failMode === 'open') return CONTINUE;
    return reply(new GatewayError('GW_ERR_BUDGET_UNAVAILABLE', undefined, { headers: { 'retry-after': '1' } }));
  };

  return {
    onRequest(ctx) {
      if (ctx.kind !== 'generation') return CONTINUE;
      const { blocking, reserves } = budgets.list(ctx.identity?.user ?? config.anonymous_user, ctx.identity?.project);
      if (reserves.length === 0) return CONTINUE;
      const now = Date.now();
      const priced = estimate(ctx);
      if (priced === undefined && config.unpriced === 'refuse') return refuseUnpriced(ctx, blocking[0]);
      const nanos = priced ?? 0; // unpriced and allowed: flagged by `cost`, never reserved
      // One entry per blocking budget, group after group: a group's start at its `first`.
      const held: Held[] = [];
      const handBack = (admitted: (group: number) => boolean): void => {
        reserves.forEach((g, i) => {
          if (admitted(i)) for (let j = 0; j < g.budgets.length; j++) commit(held[g.first + j], 0, nanos);
        });
      };
      const decide = (results: readonly Reservation[]): FilterVerdict => {
        const refused = results.findIndex((r) => r.refused > 0);
        if (refused < 0) {
          ctx.set(HELD, held);
          return CONTINUE;
        }
        handBack((i) => results[i].refused === 0);
        const h = held[reserves[refused].first + results[refused].refused - 1];
        return refuse(ctx, h.budget, h.span.end);
      };
      try {
        const runs = reserves.map((g) => {
          const { spans, keys } = g.at(periods, now);
          for (let i = 0; i < spans.length; i++) held.push({ budget: g.budgets[i], span: spans[i], nanos });
          return store.run(reserveScript, g.group, keys, [nanos, HELD_TTL_MS, ...g.limits]);
        });
        if (runs.some((r) => r instanceof Promise)) {
          return Promise.allSettled(runs).then((settled) => {
            const failed = settled.find((s) => s.status === 'rejected');
            if (failed) {
              handBack((i) => settled[i].status === 'fulfilled' && (settled[i] as PromiseFulfilledResult<Reservation>).value.refused === 0);
              // A group whose store answered too late still holds, once it catches up: hand that back too.
              settled.forEach((s, i) => {
                if (s.status !== 'rejected') return;
                onLateResult<Reservation>(s.reason, (r) => {
                  if (r.refused === 0) handBack((g) => g === i);
                });
              });
              return onStoreFailure((failed as PromiseRejectedResult).reason);
            }
            return decide(settled.map((s) => (s as PromiseFulfilledResult<Reservation>).value));
          });
        }
        return decide(runs as Reservation[]);
      } catch (err) {
        return onStoreFailure(err);
      }
    },

    onComplete(ctx: RequestContext, outcome: Outcome) {
      if (ctx.kind !== 'generation') return;
      const refused = ctx.get(REFUSED);
      if (refused && outcome.error?.code === 'GW_ERR_BUDGET_EXCEEDED') {
        rejections.inc({ scope: refused.scope, period: refused.period });
        env.log.info('request refused by budget', { request_id: ctx.id, scope: refused.scope, name: refused.name, period: refused.period });
      } else if (refused && outcome.error?.code === 'GW_ERR_BUDGET_UNPRICED') {
        rejections.inc({ scope: refused.scope, period: 'unpriced' });
        env.log.info('request refused by budget: unpriced model', { request_id: ctx.id, model: ctx.model, scope: refused.scope, name: refused.name });
      }
      const held = ctx.get(HELD);
      const actual = requestCost(ctx, outcome, book, env.config).nanos;
      // Spent in the period the request ended in, as its audit line and ledger row count it;
      // an estimate is released where it was held (a stream may run past midnight).
      const now = completionTime(ctx).getTime();
      if (held) {
        for (const h of held) {
          const span = periods.at(h.budget.period, now);
          if (span.id === h.span.id) commit(h, actual, h.nanos);
          else {
            commit(h, 0, h.nanos);
            if (actual !== 0) commit({ budget: h.budget, span }, actual, 0);
          }
        }
      }
      if (actual === 0) return;
      // Alert-only budgets (and block budgets of a request that was not reserved) still count the spend.
      for (const budget of budgets.for(ctx.identity?.user ?? config.anonymous_user, ctx.identity?.project)) {
        if (held && isHeld(held, budget)) continue;
        commit({ budget, span: periods.at(budget.period, now) }, actual, 0);
      }
    },

    async usage(ctx) {
      await batch?.flush(); // what is reported includes every settlement made before
      const now = Date.now();
      const list = budgets.for(ctx.identity?.user ?? config.anonymous_user, ctx.identity?.project);
      try {
        const states = await all(list.map((b) => store.run(budgetScript, b.group, periods.at(b.period, now).keys, PEEK)));
        return {
          budgets: list.map((b, i) => ({
            scope: b.scope, name: b.name, period: b.period, action: b.action,
            limit_usd: b.limitUsd,
            spent_usd: nanosToUsd(states[i].spent),
            reserved_usd: nanosToUsd(states[i].held),
            remaining_usd: nanosToUsd(Math.max(0, b.limitNanos - states[i].spent - states[i].held)),
            resets_at: periods.at(b.period, now).end.toISOString(),
          })),
        };
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        return { budgets: { error: 'the budget store is unavailable' } };
      }
    },

    async close() {
      await batch?.flush(); // a retiring pipeline's settlements, and the alerts they cross
      await Promise.race([alerter.drain(), new Promise((r) => setTimeout(r, 2000).unref())]);
    },

    // Decides only, and onComplete hands back a reservation whoever refused: reserves may
    // go out with `rate-limit`'s round trip when it comes just before.
    independent: true,
  };
}

const budget: FilterPlugin<BudgetConfig> = {
  name: 'budget',
  apiVersion: 1,
  configSchema,
  create: createBudget,
};
export default budget;
