/**
 * Anthropic's error shape, so the Anthropic SDKs raise the matching class
 * (RateLimitError on 429, AuthenticationError on 401, …) and honour `retry-after`.
 * https://docs.anthropic.com/en/api/errors
 */
import { limitText, remainingText, type Dialect, type ErrorCategory, type GatewayError, type RateLimitSnapshot, type RateLimitWindow } from '../../core/index.js';
import { messageStreamConverter } from './message-stream.js';
import { isAnthropicRefusal } from './refusal.js';

const TYPE: Record<ErrorCategory, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  request_too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  quota: 'permission_error',
  unavailable: 'api_error',
  upstream: 'api_error',
  timeout: 'api_error',
  internal: 'api_error',
  client_closed: 'api_error',
};

/**
 * Gateway codes Anthropic's own API answers in a way of its own. The gateway's overload
 * (`server.max_inflight_body_bytes`) is Anthropic's: 529 `overloaded_error`, which the
 * SDKs retry with backoff and Claude Code reports as the API being overloaded.
 */
const BY_CODE: Readonly<Record<string, { readonly type: string; readonly status: number }>> = {
  GW_ERR_OVERLOADED: { type: 'overloaded_error', status: 529 },
};

function errorObject(error: GatewayError, requestId: string): string {
  const type = Object.hasOwn(BY_CODE, error.code) ? BY_CODE[error.code].type : TYPE[error.category];
  return JSON.stringify({ type: 'error', error: { type, message: error.message }, request_id: requestId });
}

let isoCache = { second: 0, text: '' };

/** RFC 3339 time of an epoch second, without milliseconds; memoised, as many requests share a second. */
function isoSecond(second: number): string {
  if (isoCache.second !== second) isoCache = { second, text: new Date(second * 1000).toISOString().replace('.000Z', 'Z') };
  return isoCache.text;
}

/**
 * `anthropic-ratelimit-*` headers: reset is the RFC 3339 time the limit is fully
 * replenished, as Anthropic's own API sends it.
 * https://docs.anthropic.com/en/api/rate-limits#response-headers
 */
function rateLimitHeaders(s: RateLimitSnapshot): Record<string, string> {
  const { requests: r, tokens: t, now } = s;
  // Both windows (the usual case) as one literal: one fixed shape, not six keyed stores.
  if (r && t) {
    return {
      'anthropic-ratelimit-requests-limit': limitText(r.limit),
      'anthropic-ratelimit-requests-remaining': remainingText(r.remaining),
      'anthropic-ratelimit-requests-reset': resetTime(r, now),
      'anthropic-ratelimit-tokens-limit': limitText(t.limit),
      'anthropic-ratelimit-tokens-remaining': remainingText(t.remaining),
      'anthropic-ratelimit-tokens-reset': resetTime(t, now),
    };
  }
  const out: Record<string, string> = {};
  if (r) put(out, REQUEST_HEADERS, r, now);
  if (t) put(out, TOKEN_HEADERS, t, now);
  return out;
}

const REQUEST_HEADERS = ['anthropic-ratelimit-requests-limit', 'anthropic-ratelimit-requests-remaining', 'anthropic-ratelimit-requests-reset'] as const;
const TOKEN_HEADERS = ['anthropic-ratelimit-tokens-limit', 'anthropic-ratelimit-tokens-remaining', 'anthropic-ratelimit-tokens-reset'] as const;

function put(out: Record<string, string>, names: readonly [string, string, string], w: RateLimitWindow, now: number): void {
  out[names[0]] = limitText(w.limit);
  out[names[1]] = remainingText(w.remaining);
  out[names[2]] = resetTime(w, now);
}

/** When the window is full again, as RFC 3339. */
function resetTime(w: RateLimitWindow, now: number): string {
  return isoSecond(Math.ceil((now + w.resetMs) / 1000));
}

export const anthropicDialect: Dialect = {
  name: 'anthropic',
  renderError(error, requestId) {
    return {
      status: Object.hasOwn(BY_CODE, error.code) ? BY_CODE[error.code].status : error.status,
      headers: { 'content-type': 'application/json', 'request-id': requestId, ...error.headers },
      body: errorObject(error, requestId),
    };
  },
  renderStreamError(error, requestId) {
    return Buffer.from(`event: error\ndata: ${errorObject(error, requestId)}\n\n`);
  },
  rateLimitHeaders,
  // A stream is whole when it converts: it ended with `message_stop` and no `error` event.
  cacheConverter: messageStreamConverter,
  // A refusal is the classifiers' verdict, not an answer to keep.
  isRefusal: isAnthropicRefusal,
  // The pass-through sends both as the client set them; answers differ by API version and beta.
  cacheKeyHeaders: ['anthropic-version', 'anthropic-beta'],
  // `metadata.user_id` tags the caller for abuse detection; no answer repeats it.
  cacheUnkeyedFields: ['metadata'],
};
