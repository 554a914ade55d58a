/**
 * OpenAI's error shape for gateway errors on the unified `/v1/chat/completions` endpoint,
 * so the `openai` SDKs raise the matching class (it is chosen by HTTP status) and honour
 * `retry-after`. `type` and `code` follow what OpenAI sends for the same situation; where
 * OpenAI has no specific code, the gateway's stable code is given.
 * https://platform.openai.com/docs/guides/error-codes
 */
import type { Dialect } from '../../core/dialect.js';
import type { ErrorCategory, GatewayError } from '../../core/errors.js';
import { createKey } from '../../core/types.js';
import type { OpenAIErrorBody } from './openai-anthropic/openai-types.js';

const TYPE: Record<ErrorCategory, { type: string; code?: string }> = {
  invalid_request: { type: 'invalid_request_error' },
  authentication: { type: 'invalid_request_error', code: 'invalid_api_key' },
  permission: { type: 'invalid_request_error' },
  not_found: { type: 'invalid_request_error' },
  request_too_large: { type: 'invalid_request_error' },
  rate_limit: { type: 'requests', code: 'rate_limit_exceeded' },
  quota: { type: 'insufficient_quota', code: 'insufficient_quota' },
  unavailable: { type: 'server_error' },
  upstream: { type: 'server_error' },
  timeout: { type: 'server_error' },
  internal: { type: 'server_error' },
  client_closed: { type: 'server_error' },
};

/** Gateway codes with an exact OpenAI counterpart, so clients that check `code` recognise them. */
const CODE: Record<string, string> = { GW_ERR_MODEL_NOT_FOUND: 'model_not_found' };

/** The OpenAI error body for a gateway error. */
export function openAIErrorBody(error: GatewayError): OpenAIErrorBody {
  const t = TYPE[error.category];
  // OpenAI's 429 `type` names the limit: `requests` (RPM) or `tokens` (TPM).
  const type = error.category === 'rate_limit' && error.rateLimitReason ? error.rateLimitReason : t.type;
  return { error: { message: error.message, type, param: error.param ?? null, code: CODE[error.code] ?? t.code ?? error.code } };
}

/**
 * Set by a provider on a request whose stream is the Responses API's typed events
 * (`POST /v1/responses`), not chat completion chunks: its failure is an `event: error`.
 */
export const RESPONSES_STREAM = createKey<true>('openai.responses-stream');

/**
 * The Responses API's `error` event: the documented fields at the top (`type`, `code`,
 * `message`, `param`) and, as the live API sends them, nested under `error`, which is what
 * the `openai` SDKs raise as an APIError. No `sequence_number`: the gateway does not count
 * the upstream's events, and a made-up one would misorder them.
 * https://platform.openai.com/docs/api-reference/responses-streaming/error
 */
function responsesErrorEvent(error: GatewayError): Buffer {
  const body = openAIErrorBody(error).error;
  const data = { type: 'error', code: body.code, message: body.message, param: body.param, error: body };
  return Buffer.from(`event: error\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * Errors as OpenAI renders them. The request id travels in `x-request-id`, where OpenAI
 * puts its own. A spent quota carries `x-should-retry: false`, which the SDKs obey.
 */
export const openaiDialect: Dialect = {
  name: 'openai',
  renderError(error, requestId) {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': requestId, ...error.headers };
    if (error.category === 'quota') headers['x-should-retry'] = 'false';
    return { status: error.status, headers, body: JSON.stringify(openAIErrorBody(error)) };
  },
  renderStreamError(error, _requestId, ctx) {
    if (ctx?.get(RESPONSES_STREAM)) return responsesErrorEvent(error);
    // The SDKs throw on a data line whose JSON has an `error` member.
    return Buffer.from(`data: ${JSON.stringify(openAIErrorBody(error))}\n\n`);
  },
};
