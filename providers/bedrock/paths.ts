/**
 * Reading a path under the route prefix: which Bedrock Runtime operation it is, for which
 * model, and the upstream path, which is the client's path as received (still
 * percent-encoded) under the base path, with encoded unreserved characters written plainly
 * outside the id segment. SDKs encode a model, guardrail or async invocation id as one
 * segment (`:` as `%3A`, the `/` of an ARN as `%2F`); that segment is forwarded as sent and
 * its `%2F` is never a separator.
 * Dot segments (encoded or not), encoded separators outside the id segment, empty segments
 * and control characters are refused before anything is forwarded.
 */
import { GatewayError, withoutParameters } from '../../core/index.js';
import { normalised } from '../common/paths.js';

/** The Runtime operations that generate tokens, by their last path segment. */
export type GenerationOp = 'invoke' | 'invoke-with-response-stream' | 'converse' | 'converse-stream';

const GENERATION_OPS: ReadonlySet<string> = new Set<GenerationOp>(['invoke', 'invoke-with-response-stream', 'converse', 'converse-stream']);
/** The Anthropic Messages API's path, which Bedrock serves under `/anthropic`, as segments. */
const MESSAGES_SEGMENTS = 'anthropic/v1/messages';
/** Its token count (Claude Code's context accounting, the SDKs' `messages.countTokens`). */
const COUNT_SEGMENTS = 'anthropic/v1/messages/count_tokens';
/** First segments of the Runtime API (`/model/…`, `/guardrail/…`, `/async-invoke…`). */
const ROOTS = new Set(['model', 'guardrail', 'async-invoke']);
/**
 * First segments of the control plane's read-only model catalogue, served by the `bedrock`
 * host rather than `bedrock-runtime`: ListInferenceProfiles, GetInferenceProfile,
 * ListFoundationModels and GetFoundationModel (Claude Code on Bedrock lists the profiles at
 * start and reads one to find an application profile's model).
 */
const CONTROL_ROOTS = new Set(['inference-profiles', 'foundation-models']);

export interface BedrockPath {
  /**
   * A generation operation, `convenience` for the gateway's `/invoke`, `messages` for the
   * Anthropic Messages API (`/anthropic/v1/messages`), `messages-count` for its
   * `/anthropic/v1/messages/count_tokens` (served from CountTokens, `count-tokens.ts`), `async-invoke` for the
   * `/async-invoke` collection (a POST starts one generation to run later, a GET lists
   * them), `control` for the control plane's model catalogue (a list, or one profile or
   * model by its id or ARN; its upstream is under the Runtime's base path too, re-based by
   * the provider), or `other` (count-tokens, guardrails, one async invocation).
   */
  readonly op: GenerationOp | 'convenience' | 'async-invoke' | 'messages' | 'messages-count' | 'control' | 'other';
  /** The model id, profile id or ARN, decoded, when the path names one. */
  readonly modelId?: string;
  /** Origin-relative upstream path with the query, as the upstream sees (and the signer signs) it. */
  readonly upstream: string;
}

function invalid(message: string): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_INVALID', message);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalid('Request path has a malformed percent-encoding');
  }
}

/** Characters no segment may decode to: a second round of encoding, backslashes, controls. */
const FORBIDDEN = /[%\\\u0000-\u001f\u007f#?]/;

function checkSegment(decoded: string, allowSlash: boolean): void {
  if (FORBIDDEN.test(decoded)) throw invalid('Request path must not contain double encoding, backslashes or control characters');
  const parts = allowSlash ? decoded.split('/') : [decoded];
  if (!allowSlash && decoded.includes('/')) throw invalid('Request path must not contain encoded slashes outside the model, guardrail or invocation id');
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..') throw invalid('Request path must not contain empty, "." or ".." segments');
  }
}

/**
 * A credential a client may put in the query: a Gemini-style `key`, or SigV4's query
 * authentication (`X-Amz-Credential`, `X-Amz-Signature`, `X-Amz-Security-Token`, …). The
 * gateway signs with its own headers; the client's never go upstream.
 */
function isCredentialParameter(name: string): boolean {
  return name === 'key' || name.toLowerCase().startsWith('x-amz-');
}

/**
 * Parse `subpath` (after the route prefix) into the operation and the upstream path.
 * Throws 400 for a path that could escape, 404 for one outside the Runtime API and the
 * control plane's catalogue reads.
 * @example
 * bedrockPath('/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke', '', '')
 * // { op: 'invoke', modelId: 'anthropic.claude-3-haiku-20240307-v1:0', upstream: '/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke' }
 */
export function bedrockPath(subpath: string, query: string, basePath: string): BedrockPath {
  // `%69nvoke` is `invoke` to Bedrock (RFC 3986 §6.2.2.2), so it must be to the
  // classification too, or it goes around the limits and the meter. The model id segment
  // stays as sent: it is the one segment whose encoding the client chose and signs.
  const raw = subpath.split('/').slice(1);
  const first = raw[0] === undefined ? undefined : normalised(raw[0]);
  // Each root's second segment is an identifier that may be an ARN, whose `/` the SDKs
  // send as `%2F`: a model id or profile ARN, a guardrail ARN (ApplyGuardrail), an async
  // invocation ARN (GetAsyncInvoke).
  // A control-plane root's second segment is a profile or model id, or its ARN, likewise.
  const control = first !== undefined && CONTROL_ROOTS.has(first) && raw.length <= 2;
  const idSegment = first !== undefined && (ROOTS.has(first) || control) ? 1 : -1;
  const segments = raw.map((s, i) => (i === idSegment ? s : normalised(s)));
  if (segments.length === 1 && first === 'invoke') return { op: 'convenience', upstream: '' };
  const anthropicPath = first === 'anthropic' ? segments.join('/') : undefined;
  if (anthropicPath === MESSAGES_SEGMENTS || anthropicPath === COUNT_SEGMENTS) {
    // The query stays (Claude Code sends `?beta=true`); a credential in it does not.
    const q = withoutParameters(query, isCredentialParameter);
    return { op: anthropicPath === MESSAGES_SEGMENTS ? 'messages' : 'messages-count', upstream: `${basePath}/${anthropicPath}${q ? `?${q}` : ''}` };
  }
  if (first === undefined || first === '' || !(ROOTS.has(first) || control)) {
    throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `Unknown Bedrock path "${subpath}"; expected /model/{modelId}/invoke, /invoke-with-response-stream, /converse, /converse-stream, /anthropic/v1/messages (and its /count_tokens), the gateway's /invoke, or a read of /inference-profiles or /foundation-models`);
  }
  const decoded = segments.map(decode);
  decoded.forEach((d, i) => checkSegment(d, i === idSegment));
  const q = withoutParameters(query, isCredentialParameter);
  const upstream = `${basePath}/${segments.join('/')}${q ? `?${q}` : ''}`;
  if (control) return { op: 'control', upstream };
  if (first === 'model' && segments.length === 3) {
    const op = GENERATION_OPS.has(segments[2]) ? (segments[2] as GenerationOp) : 'other';
    return { op, modelId: decoded[1], upstream };
  }
  return { op: first === 'async-invoke' && segments.length === 1 ? 'async-invoke' : 'other', upstream };
}

/**
 * The path segment for a model id, encoded as the AWS SDKs encode it. `.` and `..` stay
 * themselves when encoded, and would move the signed request to another path; a lone
 * surrogate (valid JSON) has no UTF-8 to encode: all refused.
 * @param param the request field the id came from, named in the error.
 * @throws GatewayError 400 naming `param` for an empty, `.`, `..` or ill-formed id.
 */
export function encodeModelId(modelId: string, param = 'model'): string {
  if (modelId === '' || modelId === '.' || modelId === '..' || !modelId.isWellFormed()) {
    throw new GatewayError('GW_ERR_REQUEST_INVALID', `${param}: ${JSON.stringify(modelId)} is not a model id Bedrock can name in a path`, { param });
  }
  return encodeURIComponent(modelId).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
