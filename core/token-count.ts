/**
 * What a token count may be. Counts come from clients (`max_tokens`) and from upstream
 * answers (`usage`); both end up in the rate limiter's and budgets' arithmetic, shared by
 * every user, and in Prometheus counters, which throw on anything but a finite number ≥ 0.
 * A negative cap once reserved a negative cost and so added its size to the global scope
 * on reconcile: one request locked every user out.
 */
import type { TokenUsage } from './types.js';

/** No model's context holds more: a count past it is a broken or hostile answer. */
export const MAX_TOKEN_COUNT = 1e9;

/** Whether `value` is a token count: a finite number from 0 to {@link MAX_TOKEN_COUNT}. */
export function isTokenCount(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= MAX_TOKEN_COUNT;
}

/**
 * The output cap to reserve for an OpenAI chat body: the larger of `max_completion_tokens`
 * and `max_tokens` when both are numbers (an OpenAI-compatible upstream may read either),
 * else whichever is one.
 */
export function chatOutputCap(body: Readonly<Record<string, unknown>>): unknown {
  const { max_completion_tokens: completion, max_tokens: tokens } = body;
  if (typeof completion === 'number' && typeof tokens === 'number') return Math.max(completion, tokens);
  return typeof completion === 'number' ? completion : tokens;
}

/**
 * Sets every count of `usage` that is not one to 0; returns the fields it changed (none:
 * an empty list, the same one each time).
 */
export function zeroInvalidCounts(usage: TokenUsage): readonly string[] {
  if (isTokenCount(usage.inputTokens) && isTokenCount(usage.outputTokens) && isTokenCount(usage.cacheCreationTokens) && isTokenCount(usage.cacheReadTokens)) return NONE;
  const changed: string[] = [];
  for (const field of FIELDS) {
    if (!isTokenCount(usage[field])) {
      changed.push(`${field}=${String(usage[field])}`);
      usage[field] = 0;
    }
  }
  return changed;
}

const NONE: readonly string[] = [];
const FIELDS = ['inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens'] as const;
