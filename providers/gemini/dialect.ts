/**
 * Google's error shape (`google.rpc.Status` as JSON), so `@google/genai` raises its
 * `ApiError` with the right status and its retry logic sees 429/5xx:
 * `{"error": {"code": 429, "message": "…", "status": "RESOURCE_EXHAUSTED", "details": […]}}`.
 * Mid-stream, the same object as an SSE `data:` line, which the SDK throws on.
 * https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes
 */
import type { Dialect, ErrorCategory, GatewayError } from '../../core/index.js';
import { isGeminiRefusal } from './refusal.js';
import { GeminiSseMeter } from './usage.js';

const STATUS: Record<ErrorCategory, string> = {
  invalid_request: 'INVALID_ARGUMENT',
  authentication: 'UNAUTHENTICATED',
  permission: 'PERMISSION_DENIED',
  not_found: 'NOT_FOUND',
  request_too_large: 'INVALID_ARGUMENT',
  rate_limit: 'RESOURCE_EXHAUSTED',
  quota: 'RESOURCE_EXHAUSTED',
  unavailable: 'UNAVAILABLE',
  upstream: 'UNAVAILABLE',
  timeout: 'DEADLINE_EXCEEDED',
  internal: 'INTERNAL',
  client_closed: 'CANCELLED',
};

/** The error body; the gateway's code and the request id ride in a `google.rpc.ErrorInfo` detail. */
export function geminiErrorBody(error: GatewayError, requestId: string): string {
  const details: Array<Record<string, unknown>> = [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: error.code, domain: 'ai-gateway', metadata: { request_id: requestId } },
  ];
  const retryAfter = error.headers['retry-after'];
  if (retryAfter && /^\d+$/.test(retryAfter)) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfter}s` });
  return JSON.stringify({ error: { code: error.status, message: error.message, status: STATUS[error.category], details } });
}

export const geminiDialect: Dialect = {
  name: 'gemini',
  temperaturePaths: [['generationConfig', 'temperature']],
  renderError(error, requestId) {
    return { status: error.status, headers: { 'content-type': 'application/json; charset=UTF-8', ...error.headers }, body: geminiErrorBody(error, requestId) };
  },
  renderStreamError(error, requestId) {
    return Buffer.from(`data: ${geminiErrorBody(error, requestId)}\n\n`);
  },
  isWholeStream: isWholeGeminiStream,
  isRefusal: isGeminiRefusal,
};

/**
 * An `alt=sse` stream is whole when every candidate carried its `finishReason` (or the prompt was
 * blocked) and none was an error: Gemini sends no terminator after its last chunk.
 */
export function isWholeGeminiStream(sse: Uint8Array): boolean {
  const meter = new GeminiSseMeter();
  meter.write(sse);
  meter.end();
  return meter.reader.finished && meter.streamError === undefined;
}
