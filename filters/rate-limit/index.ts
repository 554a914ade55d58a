/**
 * `rate-limit`: the seed's per-minute request and token limits (global, default, per
 * user), enforced exactly across replicas. Admission reserves one request plus an
 * estimate of the tokens; completion (stream, abort and failure included) replaces the
 * estimate with the real usage. Counters live in the runtime's store, so they survive
 * reloads and, with Redis, are shared by every gateway replica.
 */
import {
  CONTINUE,
  defineError,
  GatewayError,
  reply,
  STORE_READY_MS,
  storeFor,
  StoreUnavailableError,
  createKey,
  worstCaseOutputTokens,
  type Filter,
  type FilterPlugin,
  type FilterVerdict,
  type Outcome,
  type PluginEnv,
  type RateLimitSnapshot,
  type RequestContext,
  type ResponseHead,
} from '../../core/index.js';
import { configSchema, Limits, type RateLimitConfig } from './config.js';
import { openAiRateLimitHeaders, replaceHeaders, retryAfterSeconds } from './headers.js';
import { Limiter, type Decision } from './limiter.js';

defineError('GW_ERR_RATE_LIMIT_UNAVAILABLE', { status: 503, category: 'unavailable', kind: 'unavailable', message: 'Rate limits cannot be checked right now' });

/** An admitted request's decision: its reservation, and its snapshot for the response headers. */
type Admission = Extract<Decision, { allowed: true }>;
const ADMISSION = createKey<Admission>('rate-limit.admission');
/** Why this filter refused; counted when the refusal is the reply the client got. */
const REFUSAL = createKey<{ scope: string; reason: string }>('rate-limit.refusal');
const REFUSAL_CODES: ReadonlySet<string> = new Set(['GW_ERR_RATE_LIMITED', 'GW_ERR_RATE_LIMIT_UNAVAILABLE']);

/**
 * On a shared store, adjustments are summed per scope for this long and sent together:
 * under load, one round trip per scope per 5 ms instead of one per request and scope
 * (core's `DelayedBatch`). The memory store applies each at once; it costs nothing there.
 */
const ADJUSTMENT_DELAY_MS = 5;

export async function createRateLimitFilter(config: RateLimitConfig, env: PluginEnv): Promise<Filter> {
  const store = storeFor(env);
  if (!(await store.ready(STORE_READY_MS))) env.log.warn('rate-limit store not ready; requests follow its fail mode until it is', { store: store.type, fail_mode: store.failMode });
  const limits = new Limits(env.config, process.env);
  // A lost adjustment leaves the estimate charged, which errs on the safe side; the store counted the failure.
  const onAdjustError = (err: unknown): void => env.log.debug('rate-limit reconcile failed', { err });
  const limiter = new Limiter(store, { batching: { delayMs: ADJUSTMENT_DELAY_MS, onError: onAdjustError } });
  const rejections = env.metrics.counter({ name: 'gateway_rate_limit_rejections_total', help: 'Requests refused by the rate limiter, by scope (user, global, store) and reason (requests, tokens, store_unavailable)', labelNames: ['scope', 'reason'] });
  const unavailable = env.metrics.counter({ name: 'gateway_rate_limit_store_unavailable_total', help: 'Requests decided by the fail mode because the store was unreachable', labelNames: ['fail_mode'] });
  const failOpen = store.failMode === 'open';

  const scopesFor = (ctx: RequestContext) => limits.scopesFor(ctx.identity?.user ?? config.anonymous_user);

  const estimate = (ctx: RequestContext): number => {
    if (ctx.kind !== 'generation') return 0;
    const input = Math.ceil(ctx.body.length / config.bytes_per_token);
    return Math.min(config.max_reserved_tokens, input + worstCaseOutputTokens(ctx, config.default_output_tokens));
  };

  const onDecision = (ctx: RequestContext, d: Decision): FilterVerdict => {
    if (d.allowed) {
      ctx.set(ADMISSION, d);
      return CONTINUE;
    }
    ctx.set(REFUSAL, { scope: d.scope, reason: d.reason });
    const headers: Record<string, string> = { 'retry-after': retryAfterSeconds(d.retryMs), ...headersFor(ctx, d.snapshot) };
    const who = d.scope === 'global' ? 'The gateway' : 'This user';
    if (d.permanent) {
      // A limit of 0: the Anthropic and OpenAI SDKs would wait and retry in vain.
      headers['x-should-retry'] = 'false';
      return reply(new GatewayError('GW_ERR_RATE_LIMITED', `${who} has a ${d.reason} per minute limit of 0; no request is admitted`, { headers, rateLimitReason: d.reason }));
    }
    return reply(new GatewayError('GW_ERR_RATE_LIMITED', `${who} is over its ${d.reason} per minute limit; retry in ${headers['retry-after']}s`, { headers, rateLimitReason: d.reason }));
  };

  const onStoreFailure = (ctx: RequestContext, err: unknown): FilterVerdict => {
    if (!(err instanceof StoreUnavailableError)) throw err;
    unavailable.inc({ fail_mode: store.failMode });
    if (failOpen) return CONTINUE;
    ctx.set(REFUSAL, { scope: 'store', reason: 'store_unavailable' });
    return reply(new GatewayError('GW_ERR_RATE_LIMIT_UNAVAILABLE', undefined, { headers: { 'retry-after': '1' } }));
  };

  return {
    onRequest(ctx) {
      const counted = ctx.kind === 'generation' || (ctx.kind === 'auxiliary' && config.limit_auxiliary);
      if (!counted) return CONTINUE;
      let decision: Decision | Promise<Decision>;
      try {
        decision = limiter.reserve(scopesFor(ctx), estimate(ctx));
      } catch (err) {
        return onStoreFailure(ctx, err);
      }
      if (decision instanceof Promise) return decision.then((d) => onDecision(ctx, d), (err: unknown) => onStoreFailure(ctx, err));
      return onDecision(ctx, decision);
    },

    onResponse(ctx: RequestContext, head: ResponseHead) {
      const snapshot = ctx.get(ADMISSION)?.snapshot;
      if (snapshot) replaceHeaders(head, headersFor(ctx, snapshot));
    },

    onComplete(ctx: RequestContext, outcome: Outcome) {
      const reservation = ctx.get(ADMISSION)?.reservation;
      if (!reservation) {
        const refusal = ctx.get(REFUSAL);
        if (refusal && REFUSAL_CODES.has(outcome.error?.code ?? '')) rejections.inc(refusal);
        return;
      }
      const u = outcome.usage;
      const actual = u.inputTokens + u.cacheCreationTokens + u.outputTokens + (config.count_cache_reads ? u.cacheReadTokens : 0);
      try {
        const pending = limiter.reconcile(reservation, actual);
        if (pending) pending.catch((err: unknown) => env.log.debug('rate-limit reconcile failed', { request_id: ctx.id, err }));
      } catch (err) {
        env.log.debug('rate-limit reconcile failed', { request_id: ctx.id, err });
      }
    },

    async usage(ctx: RequestContext) {
      try {
        const states = await limiter.peek(scopesFor(ctx));
        const out: Record<string, unknown> = {};
        for (const { scope, result } of states) {
          const s = limiter.snapshot([scope], [result]);
          const view: Record<string, unknown> = {};
          for (const dim of ['requests', 'tokens'] as const) {
            const w = s[dim];
            if (w) view[`${dim}_per_minute`] = { limit: w.limit, remaining: w.remaining, reset: new Date(s.now + w.resetMs).toISOString() };
          }
          out[scope.name] = view;
        }
        return { rate_limits: out };
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        return { rate_limits: { error: 'the rate-limit store is unavailable' } };
      }
    },

    // The retired pipeline's last adjustments, so a reload loses none.
    close: () => limiter.close(),

    // Decides only, and onComplete settles a reservation whoever refused: budgets' store
    // round trips may go out with this filter's.
    independent: true,
  };
}

function headersFor(ctx: RequestContext, snapshot: RateLimitSnapshot): Record<string, string> {
  return ctx.dialect.rateLimitHeaders ? ctx.dialect.rateLimitHeaders(snapshot) : openAiRateLimitHeaders(snapshot);
}

const rateLimit: FilterPlugin<RateLimitConfig> = {
  name: 'rate-limit',
  apiVersion: 1,
  configSchema,
  create: createRateLimitFilter,
};
export default rateLimit;
