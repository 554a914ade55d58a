/**
 * A dialect renders gateway errors the way one client API expects them, so each SDK's
 * error classes and retry logic work. Providers bring their own; core knows only `plain`.
 */
import type { GatewayError } from './errors.js';
import type { RequestContext } from './request-context.js';

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

/** Below this a whole number is a small integer to V8, and `String()` is quick. */
const SMALL = 2 ** 30;

/**
 * A window's `remaining` as header text. `String()` of a whole number past 2^30 (what is
 * left of a large tokens limit) misses V8's number-string cache and formats the double on
 * every call; it is made here from two halves that are small integers instead.
 * @example
 * remainingText(99999999487) // '99999999487'
 */
export function remainingText(n: number): string {
  if (n < SMALL || !Number.isSafeInteger(n)) return String(n);
  const high = Math.floor(n / 1e9);
  const low = String(n - high * 1e9);
  return `${high}${'000000000'.slice(low.length)}${low}`;
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
   * `ctx` is the request, for a dialect whose streams differ by call (Bedrock's
   * ConverseStream declares fewer exceptions than InvokeModelWithResponseStream).
   */
  renderStreamError?(error: GatewayError, requestId: string, ctx?: RequestContext): Uint8Array;
  /**
   * Rate-limit response headers in this API's own names and formats. Omit to let the
   * limiter use its default (OpenAI-style `x-ratelimit-*`).
   * @example
   * rateLimitHeaders: (s) => (s.requests ? { 'x-quota-left': String(s.requests.remaining) } : {}),
   */
  rateLimitHeaders?(snapshot: RateLimitSnapshot): Record<string, string>;
  /**
   * Where a request body of this API sets its sampling temperature, as member paths from
   * the top of the body. The response cache's `temperature_zero` reads each one and caches
   * a request when every one it sets is 0. Omit when it is a top-level `temperature`.
   * @example
   * temperaturePaths: [['generationConfig', 'temperature']] // Gemini
   */
  readonly temperaturePaths?: readonly (readonly string[])[];
  /**
   * Converts this API's answers between their JSON and event-stream forms, so the response
   * cache keeps one entry per request and serves either mode from it. A converter is also
   * the cache's proof that an answer is whole: what it cannot convert is not stored.
   * @example
   * cacheConverter: { toSse: messageToSse, toJson: sseToMessage } // Anthropic Messages
   */
  readonly cacheConverter?: ResponseConverter;
  /**
   * Whether a captured event stream (`text/event-stream`, as the client received it) is a
   * whole answer: it ends the way this API ends every complete answer (a stop event, a
   * terminator). An upstream that ends its body cleanly but early leaves a 200 and a clean
   * end that prove nothing. Without this (or {@link cacheConverter}) the response cache
   * never stores this dialect's streamed answers; its JSON answers still must parse.
   * @example
   * isWholeStream: (sse) => lastEventData(sse) === '[DONE]' // OpenAI Chat Completions
   */
  isWholeStream?(sse: Uint8Array): boolean;
  /**
   * Whether a whole answer (`body` as the client received it, `mode` its form) is a
   * refusal or a safety block: a content classifier's verdict rather than an answer
   * (Anthropic's `stop_reason: "refusal"`, OpenAI's `finish_reason: "content_filter"`,
   * Gemini's `finishReason: "SAFETY"` or a `promptFeedback.blockReason`). The response
   * cache does not store one: a false positive would be replayed for the whole TTL to
   * everyone sharing the entry. Called only when an answer is about to be stored;
   * `anyAnswerObject` does the reading. Omit: no answer is one.
   * @example
   * isRefusal: (body, mode) => anyAnswerObject(body, mode, ['"blocked"'], (o) => o.status === 'blocked')
   */
  isRefusal?(body: Uint8Array, mode: 'json' | 'sse'): boolean;
  /**
   * Request headers (lower-cased) of this API that a pass-through forwards and that change
   * the answer (an API version, a beta): the response cache keys on each one a request
   * carries, whatever its `vary_headers` lists.
   * @example
   * cacheKeyHeaders: ['anthropic-version', 'anthropic-beta']
   */
  readonly cacheKeyHeaders?: readonly string[];
  /**
   * Top-level request fields of this API that change neither the answer nor anything it
   * echoes back: the response cache leaves them out of its key, so requests differing only
   * there share an entry. A field the answer repeats (OpenAI Responses echoes `metadata`)
   * must not be listed: a hit would hand one caller another's value. Omit: every field counts.
   * @example
   * cacheUnkeyedFields: ['metadata'] // Anthropic Messages: metadata.user_id is not in the answer
   */
  readonly cacheUnkeyedFields?: readonly string[];
}

/**
 * A complete answer of one API in its two wire forms; `undefined` means "not a complete
 * answer" (a stream without its stop event, a body that is not a message).
 */
export interface ResponseConverter {
  /** The event stream the API would have sent for this JSON answer. */
  toSse(json: Uint8Array): Buffer | undefined;
  /** The JSON answer this whole event stream adds up to. */
  toJson(sse: Uint8Array): Buffer | undefined;
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
