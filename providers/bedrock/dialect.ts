/**
 * Bedrock's error shape, so the AWS SDKs raise the matching class: the type in
 * `x-amzn-errortype`, `{"message": …}` as the body, the request id in `x-amzn-requestid`.
 * Types the Bedrock Runtime model declares (ThrottlingException, AccessDeniedException,
 * ValidationException, …) become their modeled classes; AWS's own authentication errors
 * (UnrecognizedClientException, InvalidSignatureException, MissingAuthenticationToken…)
 * are 403s as AWS sends them, raised as the service exception with that `name`.
 * Failures after a stream began are an exception frame, as Bedrock sends them.
 */
import type { EventStreamCodec } from '@smithy/core/event-streams';
import { newEventStreamCodec, serde } from './smithy.js';
import type { Dialect, ErrorCategory, GatewayError } from '../../core/index.js';
import { isBedrockRefusal } from './refusal.js';

interface Rendering {
  readonly type: string;
  /** Overrides the error's own status where AWS uses another one for this type. */
  readonly status?: number;
}

const BY_CATEGORY: Record<ErrorCategory, Rendering> = {
  invalid_request: { type: 'ValidationException' },
  authentication: { type: 'UnrecognizedClientException', status: 403 },
  permission: { type: 'AccessDeniedException', status: 403 },
  not_found: { type: 'ResourceNotFoundException' },
  request_too_large: { type: 'ValidationException' },
  rate_limit: { type: 'ThrottlingException', status: 429 },
  // A spent budget is not retryable: Bedrock's quota error is a 400 the SDKs do not retry.
  quota: { type: 'ServiceQuotaExceededException', status: 400 },
  unavailable: { type: 'ServiceUnavailableException' },
  upstream: { type: 'InternalServerException' },
  timeout: { type: 'ModelTimeoutException' },
  internal: { type: 'InternalServerException' },
  client_closed: { type: 'InternalServerException' },
};

/** Gateway codes that have a more exact AWS type than their category's. */
const BY_CODE: Record<string, Rendering> = {
  GW_ERR_AUTH_MISSING: { type: 'MissingAuthenticationTokenException', status: 403 },
  GW_ERR_AUTH_SIGNATURE: { type: 'InvalidSignatureException', status: 403 },
};

function rendering(error: GatewayError): Rendering {
  return BY_CODE[error.code] ?? BY_CATEGORY[error.category];
}

/**
 * The exceptions each Runtime response stream declares; others are sent as an internal
 * error. ConverseStream has no ModelTimeoutException: the AWS SDKs raise an undeclared
 * member as a bare `Error` with the frame's JSON as its message.
 */
const INVOKE_STREAM_EXCEPTIONS = new Set(['InternalServerException', 'ModelStreamErrorException', 'ValidationException', 'ThrottlingException', 'ModelTimeoutException', 'ServiceUnavailableException']);
const CONVERSE_STREAM_EXCEPTIONS = new Set(['InternalServerException', 'ModelStreamErrorException', 'ValidationException', 'ThrottlingException', 'ServiceUnavailableException']);

/** Exception frames carry the type in camel case, as the stream's union members are named. */
function streamType(type: string, subpath: string | undefined): string {
  // Without the request, only what both streams declare.
  const declared = subpath === undefined || subpath.endsWith('/converse-stream') ? CONVERSE_STREAM_EXCEPTIONS : INVOKE_STREAM_EXCEPTIONS;
  const t = declared.has(type) ? type : 'InternalServerException';
  return t.charAt(0).toLowerCase() + t.slice(1);
}

let codec: EventStreamCodec | undefined;

export const bedrockDialect: Dialect = {
  name: 'bedrock',
  // The top level for InvokeModel's Claude, Llama and Mistral bodies; Converse's (and Nova's
  // InvokeModel body's) inferenceConfig; Titan's textGenerationConfig.
  temperaturePaths: [['temperature'], ['inferenceConfig', 'temperature'], ['textGenerationConfig', 'temperature']],
  isRefusal: isBedrockRefusal,
  renderError(error, requestId) {
    const r = rendering(error);
    return {
      status: r.status ?? error.status,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': r.type, 'x-amzn-requestid': requestId, ...error.headers },
      body: JSON.stringify({ message: error.message }),
    };
  },
  renderStreamError(error, _requestId, ctx) {
    const r = rendering(error);
    return (codec ??= newEventStreamCodec()).encode({
      headers: {
        ':message-type': { type: 'string', value: 'exception' },
        ':exception-type': { type: 'string', value: streamType(r.type, ctx?.subpath) },
        ':content-type': { type: 'string', value: 'application/json' },
      },
      body: serde().fromUtf8(JSON.stringify({ message: error.message })),
    });
  },
};
