/**
 * What an attempt's result means for retrying and for the breaker, and how long to wait:
 * exponential backoff with full jitter, or the upstream's own `retry-after` when it sends
 * one (capped: a longer wait is not waited out).
 */
import type { GatewayError } from '../errors.js';
import { answeredAt, retryAfterOf } from '../retry-after.js';
import type { ProviderResponse } from '../types.js';
import type { AttemptResult } from './breaker.js';
import type { RetryOn, UpstreamPolicy } from './config.js';
import { timeoutPhase } from './timeouts.js';

/** How one attempt ended, before anything was sent to the client. */
export type AttemptEnd = { readonly response: ProviderResponse; readonly error?: undefined } | { readonly error: GatewayError; readonly response?: undefined };

/** The retry trigger an attempt's end matches, if any. */
export function retryReason(end: AttemptEnd): RetryOn | undefined {
  if (end.response) {
    const status = end.response.status;
    if (status === 429) return '429';
    // 501 and 505 say the request itself is wrong for this server; sending it again changes nothing.
    return status >= 500 && status !== 501 && status !== 505 ? '5xx' : undefined;
  }
  const err = end.error;
  if (err.code === 'GW_ERR_UPSTREAM_UNREACHABLE') return 'connection';
  const phase = timeoutPhase(err);
  if (phase === 'connect') return 'connection';
  if (phase === 'headers') return 'timeout';
  return undefined;
}

/** What the attempt says about the target's health. */
export function breakerResult(end: AttemptEnd | { readonly error: GatewayError; readonly response?: undefined }): AttemptResult {
  if (end.response) return statusResult(end.response.status);
  const kind = end.error.kind;
  return kind === 'upstream_error' || kind === 'upstream_timeout' ? 'failure' : 'neutral';
}

/** What an answer's status says about the target's health: a 429 is the caller's limit, not the target's failing. */
export function statusResult(status: number): AttemptResult {
  if (status >= 500) return 'failure';
  return status === 429 ? 'neutral' : 'success';
}

/**
 * Milliseconds the upstream asked to wait, if it did: the longest valid `retry-after-ms`, else
 * `retry-after` as core/retry-after.ts reads it everywhere (the longest of repeated or folded
 * values; delay-seconds or an IMF-fixdate read against the upstream's `date`, nothing else).
 */
export function retryAfterMs(headers: Record<string, string | string[]>, now?: number): number | undefined {
  const ms = longestMs(headers['retry-after-ms']);
  if (ms !== undefined) return ms;
  const seconds = retryAfterOf(headers['retry-after'], now ?? answeredAt(headers));
  return seconds === undefined ? undefined : Number(seconds) * 1000;
}

/** The longest non-negative number among a header's values, undefined when none is one. */
function longestMs(field: string | string[] | undefined): number | undefined {
  if (field === undefined) return undefined;
  let longest: number | undefined;
  for (const value of Array.isArray(field) ? field : [field]) {
    const ms = value.trim() === '' ? NaN : Number(value);
    if (Number.isFinite(ms) && ms >= 0 && (longest === undefined || ms > longest)) longest = ms;
  }
  return longest;
}

/**
 * The wait before retry number `retry` (1-based), or `undefined` when the upstream asked
 * for longer than `maxRetryAfterMs`, which means: do not retry this target.
 */
export function backoffMs(policy: UpstreamPolicy, retry: number, end: AttemptEnd, random: () => number = Math.random): number | undefined {
  const asked = end.response ? retryAfterMs(end.response.headers) : undefined;
  if (asked !== undefined) return asked <= policy.maxRetryAfterMs ? asked : undefined;
  const ceiling = Math.min(policy.maxBackoffMs, policy.baseMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}
