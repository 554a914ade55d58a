/**
 * Anthropic error responses → OpenAI error objects. The `openai` SDKs choose the exception
 * class from the HTTP status alone (400 BadRequest, 401 Authentication, 403
 * PermissionDenied, 404 NotFound, 429 RateLimit, ≥500 InternalServer), so the status is
 * what must be right; `type` and `code` follow what OpenAI itself sends for the same case
 * (a rate limit is `type: "requests"`, or `"tokens"` when Anthropic's `anthropic-ratelimit-*`
 * headers say a token limit is the one spent, with `code: "rate_limit_exceeded"`; a bad key is
 * `type: "invalid_request_error"`, `code: "invalid_api_key"`; overload is a 503 `server_error`).
 * `retry-after` is Anthropic's, made one valid value, or for a rate limit without one the
 * wait until the spent limit resets.
 * https://docs.anthropic.com/en/api/errors
 */
import { answeredAt, retryAfterOf } from '../../../core/retry-after.js';
import type { AnthropicErrorDetail } from './anthropic-types.js';
import type { OpenAIErrorBody } from './openai-types.js';
import { limitHit, limitNamed, secondsUntilReset } from './rate-limit.js';

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
  const type = mapped.type === BY_TYPE.rate_limit_error.type ? limitHit(headers, detail?.message) : mapped.type;
  const out: TranslatedError = {
    status: mapped.status,
    headers: {},
    body: openAIError(detail?.message || `Upstream provider returned HTTP ${status}`, type, null, mapped.code),
  };
  // Anthropic's own, when valid; for a rate limit without one, the wait its reset times say.
  const now = answeredAt(headers);
  let retryAfter = retryAfterOf(headers['retry-after'], now);
  if (retryAfter === undefined && mapped.type === BY_TYPE.rate_limit_error.type) retryAfter = secondsUntilReset(headers, now)?.toString();
  if (retryAfter !== undefined) out.headers['retry-after'] = retryAfter;
  // The openai SDKs honour this header: retrying a spent quota cannot succeed.
  if (mapped.type === 'insufficient_quota') out.headers['x-should-retry'] = 'false';
  return out;
}

/**
 * Translate the data of an Anthropic stream `error` event (no status there: the type
 * decides). A `rate_limit_error` event comes without headers: its `type` is the limit its
 * message names ("… 30,000 input tokens per minute"), else OpenAI's default, `requests`.
 */
export function anthropicStreamErrorToOpenAI(body: unknown): OpenAIErrorBody {
  const detail = detailOf(body);
  const mapped = (detail && BY_TYPE[detail.type]) ?? BY_TYPE.api_error;
  const type = mapped === BY_TYPE.rate_limit_error ? (limitNamed(detail!.message) ?? mapped.type) : mapped.type;
  return openAIError(detail?.message || 'Upstream stream failed', type, null, mapped.code);
}
