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
  return largerOf(body.max_completion_tokens, body.max_tokens);
}

/**
 * How many completions an OpenAI chat or completions body asks for: the larger of `n` and
 * `best_of` when both are numbers, else whichever is one. `/v1/completions` generates
 * `best_of` completions and returns the best `n`; OpenAI-compatible servers (vLLM) take
 * `best_of` on chat too, and OpenAI refuses it there, so reading it on both costs nothing.
 */
export function chatOutputChoices(body: Readonly<Record<string, unknown>>): unknown {
  return largerOf(body.n, body.best_of);
}

/** Two fields that may each say the same thing: the larger when both are numbers, else whichever is one (else the second as it is). */
function largerOf(first: unknown, second: unknown): unknown {
  return largestNumber([first, second]) ?? second;
}

/**
 * The largest of `values` that are numbers, or `undefined` when none is: fields (or
 * spellings) of one body that may each say the same cap or count, where the reservation
 * must not take the cheaper.
 * @example
 * largestNumber([body.num_generations, body.numResults, body.n]) // Cohere's, AI21's
 */
export function largestNumber(values: readonly unknown[]): number | undefined {
  let most: number | undefined;
  for (const v of values) if (typeof v === 'number' && (most === undefined || v > most)) most = v;
  return most;
}

/**
 * A request's count of completions as a reservation multiplies by it: 1 for anything but a
 * number above 1 (the API's default; a 0 or a negative is the upstream's to refuse), a
 * fraction rounded up, at most {@link MAX_TOKEN_COUNT}.
 */
export function choiceCount(value: unknown): number {
  if (typeof value !== 'number' || !(value > 1)) return 1;
  return Math.min(Math.ceil(value), MAX_TOKEN_COUNT);
}

/**
 * The output tokens a request may generate at worst: its cap (`fallback` when it names none)
 * for each of the completions it asks for, at most {@link MAX_TOKEN_COUNT}. What the rate
 * limiter and budgets reserve; a check of the cap itself reads `maxOutputTokens` alone.
 * @example
 * worstCaseOutputTokens(ctx, 4096) // n: 8, max_tokens: 4000 → 32000
 */
export function worstCaseOutputTokens(ctx: { readonly maxOutputTokens: number | undefined; readonly outputChoices: number }, fallback: number): number {
  return Math.min(MAX_TOKEN_COUNT, (ctx.maxOutputTokens ?? fallback) * ctx.outputChoices);
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
