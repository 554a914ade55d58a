/**
 * What Anthropic's `anthropic-ratelimit-*` headers say about a 429, which it sends beside
 * the request limit for each token limit (`tokens` is the most restrictive in effect):
 * which limit ran out, for OpenAI's `type`, and when it resets, for a `retry-after` when
 * Anthropic sent none.
 * https://docs.anthropic.com/en/api/rate-limits#response-headers
 */
import type { RateLimitReason } from '../../../core/errors.js';
import { secondsUntilTime } from '../../../core/retry-after.js';

type Headers = Record<string, string | string[] | undefined>;

const LIMITS = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const;
const TOKEN_LIMITS = LIMITS.slice(1);

function spent(headers: Headers, limit: string): boolean {
  const value = headers[`anthropic-ratelimit-${limit}-remaining`];
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && v.trim() !== '' && Number(v) <= 0;
}

/**
 * Anthropic's rate-limit messages name the limit: "… exceed your organization's rate limit
 * of 30,000 input tokens per minute …", "… of 50 requests per minute …".
 */
const NAMED_LIMIT = /\b(requests|tokens) per minute\b/i;

/** The limit an Anthropic rate-limit message names, if it names one. */
export function limitNamed(message: string): RateLimitReason | undefined {
  const m = NAMED_LIMIT.exec(message);
  return m ? (m[1].toLowerCase() as RateLimitReason) : undefined;
}

/**
 * Which limit a 429 hit, for OpenAI's `type`: `tokens` when a token limit's remaining count
 * is spent and the request limit's is not; when the headers show none spent, the limit the
 * message names; `requests` otherwise (OpenAI's default, and the right one when both are
 * spent: no smaller request gets through either).
 */
export function limitHit(headers: Headers, message = ''): RateLimitReason {
  if (spent(headers, 'requests')) return 'requests';
  if (TOKEN_LIMITS.some((limit) => spent(headers, limit))) return 'tokens';
  return limitNamed(message) ?? 'requests';
}

/**
 * Seconds until the request can pass, from the reset times (RFC 3339): the latest among the
 * limits that ran out (all of them must have reset), or among all when none says so.
 * Undefined when no reset time is readable.
 */
export function secondsUntilReset(headers: Headers, now: number): number | undefined {
  const ranOut = LIMITS.filter((limit) => spent(headers, limit));
  let latest: number | undefined;
  for (const limit of ranOut.length > 0 ? ranOut : LIMITS) {
    const s = secondsUntilTime(headers[`anthropic-ratelimit-${limit}-reset`], now);
    if (s !== undefined && (latest === undefined || s > latest)) latest = s;
  }
  return latest;
}
