/**
 * One catalogue of gateway errors. Each code has a stable name, an HTTP status and a
 * category; dialects map the category to their own error type so each SDK raises the
 * right exception class. Plugins add codes with {@link defineError}.
 */
import type { ErrorKind } from './types.js';

/** Dialect-neutral class of an error; every dialect maps each category to its own type. */
export type ErrorCategory =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'request_too_large'
  | 'rate_limit'
  | 'quota' // spent budget: not retryable
  | 'unavailable'
  | 'upstream'
  | 'timeout'
  | 'internal'
  | 'client_closed';

/** Which per-minute limit a rate-limit error is about (OpenAI's error `type` names it). */
export type RateLimitReason = 'requests' | 'tokens';

export interface ErrorSpec {
  readonly status: number;
  readonly category: ErrorCategory;
  readonly kind: ErrorKind;
  readonly message: string;
}

const catalogue = new Map<string, ErrorSpec>();

/** Register an error code (`GW_ERR_<AREA>_<WHAT>`). Re-registering the same spec is a no-op. */
export function defineError(code: string, spec: ErrorSpec): void {
  const existing = catalogue.get(code);
  if (existing && (existing.status !== spec.status || existing.category !== spec.category)) {
    throw new Error(`error code ${code} is already defined with status ${existing.status}`);
  }
  catalogue.set(code, spec);
}

export function errorSpec(code: string): ErrorSpec | undefined {
  return catalogue.get(code);
}

const builtins: Record<string, ErrorSpec> = {
  GW_ERR_ROUTE_NOT_FOUND: { status: 404, category: 'not_found', kind: 'not_found', message: 'No route matches this path' },
  GW_ERR_MODEL_NOT_FOUND: { status: 404, category: 'not_found', kind: 'not_found', message: 'No provider serves this model' },
  GW_ERR_METHOD_NOT_ALLOWED: { status: 405, category: 'invalid_request', kind: 'rejected', message: 'Method not allowed on this route' },
  GW_ERR_REQUEST_TOO_LARGE: { status: 413, category: 'request_too_large', kind: 'rejected', message: 'Request body is larger than the gateway allows' },
  GW_ERR_REQUEST_MALFORMED_JSON: { status: 400, category: 'invalid_request', kind: 'rejected', message: 'Request body is not valid JSON' },
  // Containers past any request's density or depth: JSON.parse of them would hold the event loop for seconds (core/json-density.ts).
  GW_ERR_REQUEST_JSON_TOO_COMPLEX: { status: 400, category: 'invalid_request', kind: 'rejected', message: 'Request body holds more JSON objects and arrays than the gateway parses' },
  GW_ERR_REQUEST_TIMEOUT: { status: 408, category: 'timeout', kind: 'rejected', message: 'Request was not received within the time allowed' },
  GW_ERR_REQUEST_INVALID: { status: 400, category: 'invalid_request', kind: 'rejected', message: 'Invalid request' },
  GW_ERR_AUTH_MISSING: { status: 401, category: 'authentication', kind: 'rejected', message: 'Missing credentials' },
  GW_ERR_AUTH_INVALID: { status: 401, category: 'authentication', kind: 'rejected', message: 'Invalid credentials' },
  GW_ERR_AUTH_FORBIDDEN: { status: 403, category: 'permission', kind: 'rejected', message: 'Not allowed' },
  GW_ERR_RATE_LIMITED: { status: 429, category: 'rate_limit', kind: 'rejected', message: 'Rate limit exceeded' },
  GW_ERR_PROVIDER_UNCONFIGURED: { status: 503, category: 'unavailable', kind: 'unavailable', message: 'Provider is not configured' },
  GW_ERR_UNAVAILABLE: { status: 503, category: 'unavailable', kind: 'unavailable', message: 'Service unavailable' },
  // server.max_inflight_body_bytes: every SDK retries a 503 and honours its retry-after.
  GW_ERR_OVERLOADED: { status: 503, category: 'unavailable', kind: 'unavailable', message: 'The gateway is holding as many request bodies as it may' },
  GW_ERR_UPSTREAM_UNREACHABLE: { status: 502, category: 'upstream', kind: 'upstream_error', message: 'Upstream could not be reached' },
  GW_ERR_UPSTREAM_PROTOCOL: { status: 502, category: 'upstream', kind: 'upstream_error', message: 'Upstream sent an invalid response' },
  GW_ERR_UPSTREAM_TIMEOUT: { status: 504, category: 'timeout', kind: 'upstream_timeout', message: 'Upstream timed out' },
  // One code per timeout phase, so audit and metrics tell a slow connect from a stalled stream.
  GW_ERR_UPSTREAM_CONNECT_TIMEOUT: { status: 504, category: 'timeout', kind: 'upstream_timeout', message: 'Upstream timed out connecting' },
  GW_ERR_UPSTREAM_HEADERS_TIMEOUT: { status: 504, category: 'timeout', kind: 'upstream_timeout', message: 'Upstream timed out before sending the response head' },
  GW_ERR_UPSTREAM_IDLE_TIMEOUT: { status: 504, category: 'timeout', kind: 'upstream_timeout', message: 'Upstream stream went silent for too long' },
  GW_ERR_UPSTREAM_TOTAL_TIMEOUT: { status: 504, category: 'timeout', kind: 'upstream_timeout', message: 'Upstream took longer than the total time allowed' },
  GW_ERR_UPSTREAM_CIRCUIT_OPEN: { status: 503, category: 'unavailable', kind: 'unavailable', message: 'Upstream is failing; its circuit breaker is open' },
  GW_ERR_CLIENT_ABORT: { status: 499, category: 'client_closed', kind: 'client_abort', message: 'Client closed the request' },
  GW_ERR_INTERNAL: { status: 500, category: 'internal', kind: 'internal', message: 'Internal gateway error' },
};
for (const [code, spec] of Object.entries(builtins)) defineError(code, spec);

/**
 * A failure with a catalogued code. Thrown or returned by filters (`reply(error)`),
 * providers and core; rendered in the route's dialect with the request id.
 */
const BRAND = Symbol.for('ai-gateway.GatewayError');

export class GatewayError extends Error {
  /** Recognised across module copies (a plugin importing its own copy of the package). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
  readonly [BRAND] = true;
  readonly code: string;
  readonly status: number;
  readonly category: ErrorCategory;
  readonly kind: ErrorKind;
  /** Extra response headers, e.g. `retry-after`. */
  readonly headers: Record<string, string>;
  /** The request field the error is about, when there is one (OpenAI's `param`). */
  readonly param: string | undefined;
  /** For a rate-limit refusal, the limit that was hit, when the refuser knows it. */
  readonly rateLimitReason: RateLimitReason | undefined;

  /**
   * @example
   * new GatewayError('GW_ERR_RATE_LIMITED', 'over the tokens per minute limit', { headers: { 'retry-after': '3' }, rateLimitReason: 'tokens' })
   */
  constructor(code: string, message?: string, options: { headers?: Record<string, string>; param?: string; rateLimitReason?: RateLimitReason; cause?: unknown } = {}) {
    const spec = catalogue.get(code) ?? builtins.GW_ERR_INTERNAL;
    super(message ?? spec.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = catalogue.has(code) ? code : 'GW_ERR_INTERNAL';
    this.status = spec.status;
    this.category = spec.category;
    this.kind = spec.kind;
    this.headers = options.headers ?? {};
    this.param = options.param;
    this.rateLimitReason = options.rateLimitReason;
  }
}

/** Any thrown value as a GatewayError; unknown errors become `GW_ERR_INTERNAL` without leaking their text. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('GW_ERR_INTERNAL', undefined, { cause: err });
}
