/**
 * The Runtime's CountTokens answer as Anthropic's count_tokens answer: `{"inputTokens": N}`
 * becomes `{"input_tokens": N}`, and a Bedrock error (`{"message"}` with the exception in
 * `x-amzn-errortype`) becomes Anthropic's `{"type":"error","error":{type, message}}` with
 * its status kept, which is what the Anthropic SDKs choose their error class by.
 */
import { GatewayError, type Cancellation, type ProviderResponse } from '../../core/index.js';
import { readAll } from '../common/body.js';

/** Far above any count or error answer; a larger one is no CountTokens answer. */
const ANSWER_LIMIT = 64 * 1024;

/** Anthropic's error types by status; any other 4xx is a request error, a 5xx the API's. */
const TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
};

function parsed(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(bytes.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A Bedrock error answer in Anthropic's shape, its status and `retry-after` kept. */
export function anthropicErrorAnswer(status: number, bytes: Buffer, upstreamHeaders: ProviderResponse['headers']): ProviderResponse {
  const body = parsed(bytes);
  const said = typeof body?.message === 'string' ? body.message : typeof body?.Message === 'string' ? body.Message : '';
  const type = TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
  if (upstreamHeaders['retry-after'] !== undefined) headers['retry-after'] = upstreamHeaders['retry-after'];
  const error = { type: 'error', error: { type, message: said || `Upstream provider returned HTTP ${status}` } };
  return { status, headers, body: Buffer.from(JSON.stringify(error)) };
}

/**
 * CountTokens' answer, read whole (it is a few bytes), as Anthropic's.
 * @throws GatewayError 502 for a success that holds no count.
 */
export async function countAnswer(res: ProviderResponse, signal: Cancellation): Promise<ProviderResponse> {
  const bytes = await readAll(res.body, ANSWER_LIMIT, signal);
  if (res.status >= 400) return anthropicErrorAnswer(res.status, bytes, res.headers);
  const count = parsed(bytes)?.inputTokens;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', 'Upstream answered CountTokens without an inputTokens count');
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(`{"input_tokens":${count}}`) };
}
