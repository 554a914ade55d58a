/**
 * Gemini error responses → OpenAI error objects. The `openai` SDKs choose the exception
 * class from the HTTP status alone, so the status is what must be right; Google's
 * canonical `status` string decides it when present (a stream error has no HTTP status).
 * A `google.rpc.RetryInfo` detail becomes `retry-after`, which the SDKs honour; a 429 is
 * OpenAI's `type: "requests"` unless its `google.rpc.QuotaFailure` names only token quotas.
 * https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes
 */
import type { OpenAIErrorBody } from '../openai-anthropic/openai-types.js';
import { openAIError, type TranslatedError } from '../openai-anthropic/error.js';
import { answeredAt, retryAfterOf } from '../../../core/retry-after.js';

interface Mapping {
  status: number;
  type: string;
  code: string | null;
}

const BY_STATUS_NAME: Record<string, Mapping> = {
  INVALID_ARGUMENT: { status: 400, type: 'invalid_request_error', code: null },
  FAILED_PRECONDITION: { status: 400, type: 'invalid_request_error', code: null },
  OUT_OF_RANGE: { status: 400, type: 'invalid_request_error', code: null },
  UNAUTHENTICATED: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  PERMISSION_DENIED: { status: 403, type: 'invalid_request_error', code: null },
  NOT_FOUND: { status: 404, type: 'invalid_request_error', code: null },
  RESOURCE_EXHAUSTED: { status: 429, type: 'requests', code: 'rate_limit_exceeded' },
  CANCELLED: { status: 500, type: 'server_error', code: null },
  INTERNAL: { status: 500, type: 'server_error', code: null },
  UNKNOWN: { status: 500, type: 'server_error', code: null },
  UNAVAILABLE: { status: 503, type: 'server_error', code: null },
  DEADLINE_EXCEEDED: { status: 504, type: 'server_error', code: null },
};

function byHttpStatus(status: number): Mapping {
  if (status === 401) return BY_STATUS_NAME.UNAUTHENTICATED;
  if (status === 403) return BY_STATUS_NAME.PERMISSION_DENIED;
  if (status === 404) return BY_STATUS_NAME.NOT_FOUND;
  if (status === 429) return BY_STATUS_NAME.RESOURCE_EXHAUSTED;
  if (status >= 400 && status < 500) return { ...BY_STATUS_NAME.INVALID_ARGUMENT, status };
  return { status: status >= 500 ? status : 502, type: 'server_error', code: null };
}

interface Detail {
  status?: string;
  message: string;
  retryDelay?: string;
  /** A `google.rpc.QuotaFailure` whose every violation is a token quota (`…_token_count`, `…Tokens…`). */
  tokenQuota: boolean;
}

/** Whether each violation of a QuotaFailure detail names a token quota, not a request one. */
function tokenQuotaOnly(details: Array<Record<string, unknown>>): boolean {
  const failure = details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.QuotaFailure');
  const violations = Array.isArray(failure?.violations) ? (failure.violations as Array<Record<string, unknown>>) : [];
  const isTokens = (v: Record<string, unknown>): boolean =>
    (typeof v.quotaMetric === 'string' && v.quotaMetric.endsWith('_token_count')) || (typeof v.quotaId === 'string' && v.quotaId.includes('Tokens'));
  return violations.length > 0 && violations.every((v) => v !== null && typeof v === 'object' && isTokens(v));
}

function detailOf(raw: unknown): Detail | undefined {
  let body = raw;
  if (typeof raw === 'string' || raw instanceof Uint8Array) {
    try {
      body = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
    } catch {
      return undefined; // a proxy's HTML page, say
    }
  }
  // Some Google front ends wrap the error in a one-element array.
  if (Array.isArray(body)) body = body[0];
  const error = (body as { error?: { status?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (!error || typeof error !== 'object') return undefined;
  const details = Array.isArray(error.details) ? (error.details as Array<Record<string, unknown>>) : [];
  const retry = details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.retryDelay;
  return {
    status: typeof error.status === 'string' ? error.status : undefined,
    message: typeof error.message === 'string' ? error.message : '',
    retryDelay: typeof retry === 'string' ? retry : undefined,
    tokenQuota: tokenQuotaOnly(details),
  };
}

/** OpenAI's `type`: for a 429, the limit hit, which RESOURCE_EXHAUSTED names only in its QuotaFailure. */
function typeOf(mapped: Mapping, detail: Detail | undefined): string {
  return mapped.type === BY_STATUS_NAME.RESOURCE_EXHAUSTED.type && detail?.tokenQuota ? 'tokens' : mapped.type;
}

/** `"37s"` / `"1.5s"` → whole seconds, rounded up. */
function seconds(duration: string): string | undefined {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(duration);
  return m ? String(Math.ceil(Number(m[1]))) : undefined;
}

/**
 * Translate a Gemini error response: its status, its body (raw bytes, text or parsed
 * JSON) and its headers. A body that is not Google's error shape still yields an error
 * of the right class, with a generic message.
 * @example
 * geminiErrorToOpenAI(429, { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } })
 * // → { status: 429, headers: {}, body: { error: { message: 'Quota exceeded', type: 'requests', param: null, code: 'rate_limit_exceeded' } } }
 */
export function geminiErrorToOpenAI(status: number, body: unknown, headers: Record<string, string | string[] | undefined> = {}): TranslatedError {
  const detail = detailOf(body);
  const fromStatus = byHttpStatus(status);
  const named = detail?.status ? BY_STATUS_NAME[detail.status] : undefined;
  // The HTTP status stays (a 400 INVALID_ARGUMENT for a bad key is still a 400); the name picks type and code.
  const mapped = named ? { ...named, status: fromStatus.status } : fromStatus;
  const out: TranslatedError = {
    status: mapped.status,
    headers: {},
    body: openAIError(detail?.message || `Upstream provider returned HTTP ${status}`, typeOf(mapped, detail), null, mapped.code),
  };
  const retryAfter = retryAfterOf(headers['retry-after'], answeredAt(headers)) ?? (detail?.retryDelay ? seconds(detail.retryDelay) : undefined);
  if (retryAfter !== undefined) out.headers['retry-after'] = retryAfter;
  return out;
}

/** Translate the `error` of a Gemini stream chunk (no HTTP status there: the status name decides). */
export function geminiStreamErrorToOpenAI(body: unknown): OpenAIErrorBody {
  const detail = detailOf(body);
  const mapped = (detail?.status && BY_STATUS_NAME[detail.status]) || BY_STATUS_NAME.INTERNAL;
  return openAIError(detail?.message || 'Upstream stream failed', typeOf(mapped, detail), null, mapped.code);
}
