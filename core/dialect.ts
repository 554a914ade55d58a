/**
 * A dialect renders gateway errors the way one client API expects them, so each SDK's
 * error classes and retry logic work. Providers bring their own; core knows only `plain`.
 */
import type { GatewayError } from './errors.js';

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One limit's state as a client should see it. */
export interface RateLimitWindow {
  readonly limit: number;
  readonly remaining: number;
  /** Milliseconds until the limit is fully replenished. */
  readonly resetMs: number;
}

const limitTexts = new Map<number, string>();

/**
 * A window's `limit` as header text, made once per value: limits are few and fixed per
 * config, and `String()` of a number past 2^30 (a tokens limit) takes V8's slow path on
 * every call. For dialects' `rateLimitHeaders`.
 * @example
 * limitText(100000000000) // '100000000000'
 */
export function limitText(limit: number): string {
  let text = limitTexts.get(limit);
  if (text === undefined) {
    if (limitTexts.size >= 256) limitTexts.clear();
    text = String(limit);
    limitTexts.set(limit, text);
  }
  return text;
}

/** The caller's rate-limit state, rendered into response headers by the route's dialect. */
export interface RateLimitSnapshot {
  /** Epoch milliseconds the snapshot was taken at, for absolute reset times. */
  readonly now: number;
  readonly requests?: RateLimitWindow;
  readonly tokens?: RateLimitWindow;
}

export interface Dialect {
  /** `anthropic`, `openai`, `bedrock`, `plain`, … */
  readonly name: string;
  renderError(error: GatewayError, requestId: string): RenderedError;
  /**
   * An error as one event of this dialect's stream format, for failures after the
   * response head was sent. Omit when the format has none: the stream is then cut.
   */
  renderStreamError?(error: GatewayError, requestId: string): Uint8Array;
  /**
   * Rate-limit response headers in this API's own names and formats. Omit to let the
   * limiter use its default (OpenAI-style `x-ratelimit-*`).
   * @example
   * rateLimitHeaders: (s) => (s.requests ? { 'x-quota-left': String(s.requests.remaining) } : {}),
   */
  rateLimitHeaders?(snapshot: RateLimitSnapshot): Record<string, string>;
}

/** JSON errors for gateway endpoints and unknown routes. */
export const plainDialect: Dialect = {
  name: 'plain',
  renderError(error, requestId) {
    return {
      status: error.status,
      headers: { 'content-type': 'application/json', ...error.headers },
      body: JSON.stringify({ error: { code: error.code, type: error.category, message: error.message, request_id: requestId } }),
    };
  },
};
