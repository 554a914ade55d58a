/**
 * The limiter's default header format (OpenAI's `x-ratelimit-*`, reset as a duration
 * such as `6m0s`), used when the route's dialect brings no format of its own, and the
 * replacement of upstream headers: those describe the gateway's shared provider key,
 * not the caller.
 */
import { limitText, lowerCaseName, remainingText, type RateLimitSnapshot, type RateLimitWindow, type ResponseHead } from '../../core/index.js';

/** `17ms`, `1s`, `6m0s`, `1h2m3s`, as OpenAI writes reset durations. Rounded up. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  let s = Math.ceil(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

const REQUEST_HEADERS = ['x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests'] as const;
const TOKEN_HEADERS = ['x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens'] as const;

/** https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers */
export function openAiRateLimitHeaders(s: RateLimitSnapshot): Record<string, string> {
  const { requests: r, tokens: t } = s;
  // Both windows (the usual case) as one literal: one fixed shape, not six keyed stores.
  if (r && t) {
    return {
      'x-ratelimit-limit-requests': limitText(r.limit),
      'x-ratelimit-remaining-requests': remainingText(r.remaining),
      'x-ratelimit-reset-requests': formatDuration(r.resetMs),
      'x-ratelimit-limit-tokens': limitText(t.limit),
      'x-ratelimit-remaining-tokens': remainingText(t.remaining),
      'x-ratelimit-reset-tokens': formatDuration(t.resetMs),
    };
  }
  const out: Record<string, string> = {};
  if (r) put(out, REQUEST_HEADERS, r);
  if (t) put(out, TOKEN_HEADERS, t);
  return out;
}

function put(out: Record<string, string>, names: readonly [string, string, string], w: RateLimitWindow): void {
  out[names[0]] = limitText(w.limit);
  out[names[1]] = remainingText(w.remaining);
  out[names[2]] = formatDuration(w.resetMs);
}

/** Set `headers` on the response, dropping any same-named header whatever its case. */
export function replaceHeaders(head: ResponseHead, headers: Record<string, string>): void {
  for (const name of Object.keys(head.headers)) {
    const lower = lowerCaseName(name);
    if (name !== lower && Object.hasOwn(headers, lower)) delete head.headers[name];
  }
  Object.assign(head.headers, headers);
}

/** `retry-after` in whole seconds, at least 1, so a client never retries too early. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
