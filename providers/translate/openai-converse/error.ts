/**
 * Bedrock error answers → OpenAI error objects. Bedrock names the error in the
 * `x-amzn-ErrorType` header (`ThrottlingException:http://…`) or the body's `__type`, with
 * `{"message": "…"}` as the body; in a ConverseStream the exception is an event named in
 * camel case. The `openai` SDKs choose the exception class from the HTTP status. A throttle
 * is OpenAI's `type: "requests"` unless its message says too many tokens.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors
 */
import type { OpenAIErrorBody } from '../openai-anthropic/openai-types.js';
import { openAIError, type TranslatedError } from '../openai-anthropic/error.js';
import { answeredAt, retryAfterOf } from '../../../core/retry-after.js';

interface Mapping {
  status: number;
  type: string;
  code: string | null;
}

const SERVER: Mapping = { status: 500, type: 'server_error', code: null };

/** By exception name, lower-cased (headers say `ThrottlingException`, streams `throttlingException`). */
const BY_NAME: Record<string, Mapping> = {
  validationexception: { status: 400, type: 'invalid_request_error', code: null },
  accessdeniedexception: { status: 403, type: 'invalid_request_error', code: null },
  unrecognizedclientexception: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  expiredtokenexception: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  resourcenotfoundexception: { status: 404, type: 'invalid_request_error', code: null },
  throttlingexception: { status: 429, type: 'requests', code: 'rate_limit_exceeded' },
  servicequotaexceededexception: { status: 429, type: 'requests', code: 'rate_limit_exceeded' },
  modelnotreadyexception: { status: 503, type: 'server_error', code: null },
  modeltimeoutexception: { status: 504, type: 'server_error', code: null },
  modelerrorexception: { status: 502, type: 'server_error', code: null },
  modelstreamerrorexception: { status: 502, type: 'server_error', code: null },
  serviceunavailableexception: { status: 503, type: 'server_error', code: null },
  internalserverexception: SERVER,
};

/** Bedrock's throttling message for a tokens-per-minute quota ("Too many tokens, please wait before trying again."). */
const TOKENS_THROTTLED = /^too many tokens\b/i;

/** OpenAI's `type`: for a throttle, the limit hit, which a ThrottlingException names only in its message. */
function typeOf(mapped: Mapping, message: string): string {
  return mapped.type === BY_NAME.throttlingexception.type && TOKENS_THROTTLED.test(message) ? 'tokens' : mapped.type;
}

function byStatus(status: number): Mapping {
  if (status === 401) return BY_NAME.unrecognizedclientexception;
  if (status === 403) return BY_NAME.accessdeniedexception;
  if (status === 404) return BY_NAME.resourcenotfoundexception;
  if (status === 429) return BY_NAME.throttlingexception;
  // The model's own failures: no OpenAI client maps these 4xx, all mean "retry later".
  if (status === 408) return BY_NAME.modeltimeoutexception;
  if (status === 424) return BY_NAME.modelerrorexception;
  if (status >= 400 && status < 500) return { ...BY_NAME.validationexception, status };
  return { status: status >= 500 ? status : 502, type: 'server_error', code: null };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parse(raw: unknown): Record<string, unknown> | undefined {
  let body = raw;
  if (typeof raw === 'string' || raw instanceof Uint8Array) {
    try {
      body = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
    } catch {
      return undefined;
    }
  }
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}

/** `ThrottlingException:http://internal.amazon.com/…` or `com.amazon.coral#ThrottlingException` → `throttlingexception`. */
function exceptionName(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return value.split(':')[0].split('#').pop()!.toLowerCase();
}

/**
 * Translate a Bedrock error answer: its status, its body (raw bytes, text or parsed
 * JSON) and its headers (lower-cased names).
 * @example
 * converseErrorToOpenAI(429, { message: 'Too many requests' }, { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' })
 * // → { status: 429, headers: {}, body: { error: { message: 'Too many requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } } }
 */
export function converseErrorToOpenAI(status: number, body: unknown, headers: Record<string, string | string[] | undefined> = {}): TranslatedError {
  const parsed = parse(body);
  const name = exceptionName(header(headers, 'x-amzn-errortype')) ?? exceptionName(parsed?.__type);
  const fromStatus = byStatus(status);
  const named = name ? BY_NAME[name] : undefined;
  const mapped = named ? { ...named, status: fromStatus.status } : fromStatus;
  const message = typeof parsed?.message === 'string' ? parsed.message : typeof parsed?.Message === 'string' ? parsed.Message : '';
  const out: TranslatedError = { status: mapped.status, headers: {}, body: openAIError(message || `Upstream provider returned HTTP ${status}`, typeOf(mapped, message), null, mapped.code) };
  // Bedrock says nothing of when to retry; a proxy in front of it may.
  const retryAfter = retryAfterOf(headers['retry-after'], answeredAt(headers));
  if (retryAfter !== undefined) out.headers['retry-after'] = retryAfter;
  return out;
}

/** Translate a ConverseStream exception event (its name and payload). */
export function converseStreamErrorToOpenAI(name: string, payload: { message?: string } | undefined): OpenAIErrorBody {
  const mapped = BY_NAME[name.toLowerCase()] ?? SERVER;
  const message = typeof payload?.message === 'string' ? payload.message : '';
  return openAIError(message || 'Upstream stream failed', typeOf(mapped, message), null, mapped.code);
}
