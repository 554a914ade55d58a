/**
 * Anthropic error responses → OpenAI error objects. The `openai` SDKs choose the exception
 * class from the HTTP status alone (400 BadRequest, 401 Authentication, 403
 * PermissionDenied, 404 NotFound, 429 RateLimit, ≥500 InternalServer), so the status is
 * what must be right; `type` and `code` follow what OpenAI itself sends for the same case
 * (a rate limit is `type: "requests"`, or `"tokens"` when Anthropic's `anthropic-ratelimit-*`
 * headers say a token limit is the one spent, with `code: "rate_limit_exceeded"`; a bad key is
 * `type: "invalid_request_error"`, `code: "invalid_api_key"`; overload is a 503 `server_error`).
 * https://docs.anthropic.com/en/api/errors
 */
import type { RateLimitReason } from '../../../core/errors.js';
import type { AnthropicErrorDetail } from './anthropic-types.js';
import type { OpenAIErrorBody } from './openai-types.js';

export interface TranslatedError {
  status: number;
  /** Headers worth keeping for the client, e.g. `retry-after`. */
  headers: Record<string, string>;
  body: OpenAIErrorBody;
}

interface Mapping {
  status: number;
  type: string;
  code: string | null;
}

// Keyed by Anthropic's error type, which is present in stream errors that have no status.
const BY_TYPE: Record<string, Mapping> = {
  invalid_request_error: { status: 400, type: 'invalid_request_error', code: null },
  authentication_error: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  // A billing problem is the gateway's account's, like OpenAI's own quota error (429, not retryable).
  billing_error: { status: 429, type: 'insufficient_quota', code: 'insufficient_quota' },
  permission_error: { status: 403, type: 'invalid_request_error', code: null },
  not_found_error: { status: 404, type: 'invalid_request_error', code: null },
  request_too_large: { status: 413, type: 'invalid_request_error', code: null },
  rate_limit_error: { status: 429, type: 'requests', code: 'rate_limit_exceeded' },
  api_error: { status: 500, type: 'server_error', code: null },
  timeout_error: { status: 504, type: 'server_error', code: null },
  overloaded_error: { status: 503, type: 'server_error', code: null },
};

function byStatus(status: number): Mapping {
  if (status === 529) return BY_TYPE.overloaded_error;
  if (status === 401) return BY_TYPE.authentication_error;
  if (status === 402) return BY_TYPE.billing_error;
  if (status === 403) return BY_TYPE.permission_error;
  if (status === 404) return BY_TYPE.not_found_error;
  if (status === 413) return BY_TYPE.request_too_large;
  if (status === 429) return BY_TYPE.rate_limit_error;
  if (status >= 400 && status < 500) return { ...BY_TYPE.invalid_request_error, status };
  return { status: status >= 500 ? status : 502, type: 'server_error', code: null };
}

/**
 * The token limits Anthropic reports beside the request limit on every answer, a 429's
 * included (`anthropic-ratelimit-tokens-*` is the most restrictive of them in effect).
 * https://docs.anthropic.com/en/api/rate-limits#response-headers
 */
const TOKEN_REMAINING = ['anthropic-ratelimit-tokens-remaining', 'anthropic-ratelimit-input-tokens-remaining', 'anthropic-ratelimit-output-tokens-remaining'] as const;

function spent(value: string | string[] | undefined): boolean {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && v.trim() !== '' && Number(v) <= 0;
}

/**
 * Which limit a 429 hit, for OpenAI's `type`: `tokens` when a token limit's remaining count
 * is spent and the request limit's is not; `requests` otherwise (OpenAI's default, and the
 * right one when both are spent: no smaller request gets through either).
 */
function limitHit(headers: Record<string, string | string[] | undefined>): RateLimitReason {
  if (spent(headers['anthropic-ratelimit-requests-remaining'])) return 'requests';
  return TOKEN_REMAINING.some((name) => spent(headers[name])) ? 'tokens' : 'requests';
}

function detailOf(raw: unknown): AnthropicErrorDetail | undefined {
  let body = raw;
  if (typeof raw === 'string' || raw instanceof Uint8Array) {
    try {
      body = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
    } catch {
      return undefined; // a proxy's HTML page, say
    }
  }
  const error = (body as { error?: { type?: unknown; message?: unknown } } | null)?.error;
  if (error && typeof error.type === 'string') return { type: error.type, message: typeof error.message === 'string' ? error.message : '' };
  return undefined;
}

/** Build an OpenAI error body. */
export function openAIError(message: string, type: string, param: string | null = null, code: string | null = null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

/**
 * Translate an Anthropic error response: its status, its body (raw bytes, text or parsed
 * JSON) and its headers.
 * A body that is not Anthropic's error shape (a proxy's HTML page, say) still yields an
 * error of the right class, with a generic message.
 * @example
 * anthropicErrorToOpenAI(429, { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }, { 'retry-after': '7' })
 * // → { status: 429, headers: { 'retry-after': '7' }, body: { error: { message: 'slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } } }
 */
export function anthropicErrorToOpenAI(status: number, body: unknown, headers: Record<string, string | string[] | undefined> = {}): TranslatedError {
  const detail = detailOf(body);
  const fromStatus = byStatus(status);
  const mapped = detail && BY_TYPE[detail.type] ? { ...BY_TYPE[detail.type], status: fromStatus.status } : fromStatus;
  // OpenAI's 429 `type` names the limit hit: `requests` (RPM) or `tokens` (TPM).
  const type = mapped.type === BY_TYPE.rate_limit_error.type ? limitHit(headers) : mapped.type;
  const out: TranslatedError = {
    status: mapped.status,
    headers: {},
    body: openAIError(detail?.message || `Upstream provider returned HTTP ${status}`, type, null, mapped.code),
  };
  const retryAfter = headers['retry-after'];
  if (typeof retryAfter === 'string') out.headers['retry-after'] = retryAfter;
  // The openai SDKs honour this header: retrying a spent quota cannot succeed.
  if (mapped.type === 'insufficient_quota') out.headers['x-should-retry'] = 'false';
  return out;
}

/** Translate the data of an Anthropic stream `error` event (no status there: the type decides). */
export function anthropicStreamErrorToOpenAI(body: unknown): OpenAIErrorBody {
  const detail = detailOf(body);
  const mapped = (detail && BY_TYPE[detail.type]) ?? BY_TYPE.api_error;
  return openAIError(detail?.message || 'Upstream stream failed', mapped.type, null, mapped.code);
}
