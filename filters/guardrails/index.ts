/**
 * `guardrails`: limits per agent session (the session `cost` resolved): a token ceiling,
 * a cost ceiling, a token burn rate per minute, and a runaway-loop breaker that trips when
 * the session sends the same tool call (same tool name and arguments) more than `repeats`
 * times in a row with less than `window_seconds` between them; a tripped session is
 * refused for that window. Refusals are 403s in the client's dialect with
 * `x-should-retry: false` (a burn-rate one says in `retry-after` when its minute ends),
 * logged and counted. Off unless configured (every limit defaults to off). State lives in
 * the store, so it holds across replicas.
 */
import {
  CONTINUE, defineError, GatewayError, reply, storeFor, StoreUnavailableError,
  type Filter, type FilterPlugin, type FilterVerdict, type PluginEnv, type RequestContext,
} from '../../core/index.js';
import { priceBookFor, requestCost } from '../cost/accounting.js';
import { usdToNanos } from '../cost/price-book.js';
import { sessionOf } from '../cost/session.js';
import { GUARDRAIL_KEYS, guardrailScript, Reason } from './script.js';
import { argumentsBudget, pickedToolCallFingerprint } from './tool-calls.js';

defineError('GW_ERR_SESSION_LIMIT', { status: 403, category: 'quota', kind: 'rejected', message: 'This agent session reached its limit' });
defineError('GW_ERR_SESSION_LOOP', { status: 403, category: 'permission', kind: 'rejected', message: 'This agent session looks stuck in a loop' });

export interface GuardrailsConfig {
  max_session_tokens?: number;
  max_session_cost_usd?: number;
  /** A session's totals are forgotten after this long without a request. */
  session_ttl_minutes: number;
  /** Refuse while the session has used this many tokens in the current minute. */
  max_tokens_per_minute?: number;
  loop?: { repeats: number; window_seconds: number };
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max_session_tokens: { type: 'integer', minimum: 1 },
    max_session_cost_usd: { type: 'number', exclusiveMinimum: 0 },
    session_ttl_minutes: { type: 'integer', minimum: 1, default: 1440 },
    max_tokens_per_minute: { type: 'integer', minimum: 1 },
    loop: {
      type: 'object',
      additionalProperties: false,
      properties: { repeats: { type: 'integer', minimum: 1, default: 5 }, window_seconds: { type: 'integer', minimum: 1, default: 600 } },
    },
  },
};

const REASON_NAMES = ['', 'loop', 'session_tokens', 'session_cost', 'burn_rate'];

/**
 * A call's fingerprint as the positive integer the store keeps (0: no call). Its first 52
 * bits: a number, so it fits a store cell, and still far too many for two calls to meet.
 */
function callNumber(fingerprint: string | undefined): number {
  return fingerprint ? parseInt(fingerprint.slice(0, 13), 16) + 1 : 0;
}

/** The burn rate counts tokens per clock minute: they are forgotten when it ends. */
function msLeftInMinute(now: number): number {
  return 60_000 - (now % 60_000);
}

function createGuardrails(config: GuardrailsConfig, env: PluginEnv): Filter {
  const maxTokens = config.max_session_tokens ?? -1;
  const maxCost = config.max_session_cost_usd === undefined ? -1 : usdToNanos(config.max_session_cost_usd);
  const burn = config.max_tokens_per_minute ?? -1;
  const repeats = config.loop?.repeats ?? -1;
  const windowMs = (config.loop?.window_seconds ?? 600) * 1000;
  const ttlMs = config.session_ttl_minutes * 60_000;
  if (maxTokens < 0 && maxCost < 0 && burn < 0 && repeats < 0) return {}; // nothing configured
  const store = storeFor(env);
  const book = priceBookFor(env);
  const trips = env.metrics.counter({ name: 'gateway_guardrail_refusals_total', help: 'Requests refused by agent-session guardrails, by reason (loop, session_tokens, session_cost, burn_rate)', labelNames: ['reason'] });
  const group = (session: string) => `gr:${session}`;

  const verdict = (ctx: RequestContext, session: string, reason: number): FilterVerdict => {
    if (reason === Reason.None) return CONTINUE;
    const name = REASON_NAMES[reason] ?? 'unknown';
    trips.inc({ reason: name });
    env.log.warn('agent session refused by guardrail', { request_id: ctx.id, session, user: ctx.identity?.user, reason: name });
    const headers = { 'x-should-retry': 'false' };
    switch (reason) {
      case Reason.Loop:
        return reply(new GatewayError('GW_ERR_SESSION_LOOP', `This agent session repeated the same tool call more than ${repeats} times; it looks stuck in a loop and is paused for ${windowMs / 1000}s. Change the approach or start a new session.`, { headers }));
      case Reason.Tokens:
        return reply(new GatewayError('GW_ERR_SESSION_LIMIT', `This agent session used its ${maxTokens} tokens; start a new session.`, { headers }));
      case Reason.Cost:
        return reply(new GatewayError('GW_ERR_SESSION_LIMIT', `This agent session spent its $${config.max_session_cost_usd} budget; start a new session.`, { headers }));
      default: {
        // A limit that clears by itself: say when, though no SDK should wait it out unasked.
        const wait = Math.ceil(msLeftInMinute(Date.now()) / 1000);
        return reply(new GatewayError('GW_ERR_SESSION_LIMIT', `This agent session is using more than ${burn} tokens a minute; wait ${wait}s, until the minute ends, before continuing.`, { headers: { ...headers, 'retry-after': String(wait) } }));
      }
    }
  };

  const failed = (err: unknown): FilterVerdict => {
    if (!(err instanceof StoreUnavailableError)) throw err;
    return CONTINUE; // guardrails are a safety net: a store outage must not stop every agent
  };

  return {
    onRequest(ctx) {
      if (ctx.kind !== 'generation') return CONTINUE;
      const session = sessionOf(ctx);
      if (!session) return CONTINUE;
      let call = 0;
      if (repeats >= 0) {
        try {
          // The last calls alone: an agent's tool results, text and earlier turns are neither decoded nor built.
          call = callNumber(pickedToolCallFingerprint(ctx, argumentsBudget(ctx.body.length)));
        } catch {
          call = 0;
        }
      }
      try {
        const r = store.run(guardrailScript, group(session), GUARDRAIL_KEYS, [0, maxTokens, maxCost, burn, repeats, windowMs, call]);
        if (r instanceof Promise) return r.then((reason) => verdict(ctx, session, reason), failed);
        return verdict(ctx, session, r);
      } catch (err) {
        return failed(err);
      }
    },
    onComplete(ctx, outcome) {
      if (ctx.kind !== 'generation') return;
      const session = sessionOf(ctx);
      if (!session) return;
      const u = outcome.usage;
      // Cache reads are left out, as in rate limits: an agent re-reads its whole context every turn.
      const tokens = u.inputTokens + u.outputTokens + u.cacheCreationTokens;
      const cost = requestCost(ctx, outcome, book, env.config).nanos;
      if (tokens === 0 && cost === 0) return;
      try {
        const r = store.run(guardrailScript, group(session), GUARDRAIL_KEYS, [1, tokens, cost, ttlMs, msLeftInMinute(Date.now())]);
        if (r instanceof Promise) r.catch((err: unknown) => env.log.debug('guardrail record failed', { err }));
      } catch (err) {
        env.log.debug('guardrail record failed', { err });
      }
    },
  };
}

const guardrails: FilterPlugin<GuardrailsConfig> = {
  name: 'guardrails',
  apiVersion: 1,
  configSchema,
  create: createGuardrails,
};
export default guardrails;
