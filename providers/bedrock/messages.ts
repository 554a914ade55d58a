/**
 * The Anthropic Messages API as Bedrock serves it, at `/anthropic/v1/messages`: Anthropic's
 * own request and answer (SSE streams included), Claude's only way in for the models that
 * have no ARN-versioned id. A client reaches it under the Bedrock route as
 * `/v1/bedrock/anthropic/v1/messages`, so the Anthropic SDK, Claude Code
 * (`ANTHROPIC_BASE_URL=…/v1/bedrock/anthropic`) and the Bedrock Mantle SDK client work
 * unmodified; errors there are Anthropic's. Upstream it goes to the Bedrock Runtime
 * (service `bedrock`, which wants `anthropic_version` in the body) or to bedrock-mantle
 * (service `bedrock-mantle`, which wants the `anthropic-version` header).
 */
import type { Dispatcher } from 'undici';
import { createKey, GatewayError, shapeText, type JsonReads, type RequestContext } from '../../core/index.js';
import { anthropicDialect } from '../anthropic/dialect.js';
import type { Endpoint } from './config.js';
import { baseModelId } from './model-id.js';
import type { RequestSigner } from './signer.js';

/** The subpath prefix of the Anthropic-dialect paths; all others speak Bedrock's. */
const ANTHROPIC_PREFIX = '/anthropic/';
/** The Runtime's body version, as its docs and the Anthropic Bedrock SDK send it. */
export const RUNTIME_VERSION = 'bedrock-2023-05-31';
/** The header version bedrock-mantle takes when the client sent none. */
export const MANTLE_VERSION = '2023-06-01';

/** Errors on `/anthropic/…` are Anthropic's, so the Anthropic SDKs raise their own classes. */
export function messagesDialect(subpath: string): typeof anthropicDialect | undefined {
  return subpath.startsWith(ANTHROPIC_PREFIX) ? anthropicDialect : undefined;
}

/** Whether the client's body names its `anthropic_version`, read in `inspect`. */
export const HAS_VERSION = createKey<boolean>('bedrock.messages.has-version');

interface MessagesBody {
  model?: unknown;
  stream?: unknown;
  max_tokens?: unknown;
  anthropic_version?: unknown;
}

/** The few members read out of what may be an agent's 100 KB turn. */
const READS: JsonReads = { members: { model: { text: true }, stream: {}, max_tokens: {}, anthropic_version: {} } };

function invalid(message: string, param?: string): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_INVALID', message, param ? { param } : undefined);
}

/** A Messages request, classified: always a generation, its model the body's (a base id, profile or ARN). */
export function inspectMessages(ctx: RequestContext): void {
  if (ctx.method !== 'POST') throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on /anthropic/v1/messages; POST a Messages request`);
  ctx.kind = 'generation';
  // Parsed whatever the content-type says: a mislabelled body must not dodge model or token policy.
  const body = ctx.jsonPick(READS) as MessagesBody | null;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('The request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model === '') throw invalid('model: is required: the Bedrock model id or inference profile', 'model');
  ctx.model = shapeText(body.model);
  ctx.baseModel = baseModelId(ctx.model);
  ctx.stream = body.stream === true;
  if (typeof body.max_tokens === 'number') ctx.maxOutputTokens = body.max_tokens;
  ctx.set(HAS_VERSION, body.anthropic_version !== undefined);
}

const OPEN_BRACE = 0x7b;
const VERSION_MEMBER = Buffer.from(`"anthropic_version":"${RUNTIME_VERSION}",`);
const VERSION_ONLY = Buffer.from(`"anthropic_version":"${RUNTIME_VERSION}"`);

/**
 * `body` with `anthropic_version` as its first member, spliced in after the opening brace
 * so the rest is forwarded byte for byte (the Anthropic SDKs and Claude Code send the
 * version as a header, which the Runtime does not read). A body that is not an object is
 * sent as it is, for the upstream to refuse.
 * @example
 * withRuntimeVersion(Buffer.from('{"model":"m"}')).toString() // '{"anthropic_version":"bedrock-2023-05-31","model":"m"}'
 */
export function withRuntimeVersion(body: Buffer): Buffer {
  let i = 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
  if (body[i] !== OPEN_BRACE) return body;
  let j = i + 1;
  while (j < body.length && (body[j] === 0x20 || body[j] === 0x0a || body[j] === 0x0d || body[j] === 0x09)) j++;
  const member = body[j] === 0x7d ? VERSION_ONLY : VERSION_MEMBER;
  return Buffer.concat([body.subarray(0, i + 1), member, body.subarray(i + 1)]);
}

/** Where Messages requests go: the upstream's pool, its signer and its base path, fixed per config. */
export interface MessagesTarget {
  readonly mode: 'runtime' | 'mantle';
  readonly endpoint: Endpoint;
  readonly pool: Dispatcher;
  readonly signer: RequestSigner;
}

/**
 * The upstream request for a Messages call: the path under the target's base (the query
 * kept), the headers given a version for mantle, the body given one for the Runtime.
 * `upstream` is the parsed path under `runtimeBase`.
 */
export function messagesCall(
  target: MessagesTarget,
  upstream: string,
  runtimeBase: string,
  headers: Record<string, string | string[]>,
  body: Buffer,
  hasVersion: boolean,
): { path: string; headers: Record<string, string | string[]>; body: Buffer } {
  const path = target.endpoint.basePath + upstream.slice(runtimeBase.length);
  if (target.mode === 'mantle') {
    if (headers['anthropic-version'] === undefined) headers['anthropic-version'] = MANTLE_VERSION;
    return { path, headers, body };
  }
  return { path, headers, body: hasVersion ? body : withRuntimeVersion(body) };
}
