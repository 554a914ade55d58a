/**
 * `POST /anthropic/v1/messages/count_tokens` on Bedrock: Anthropic's count_tokens request
 * (the SDKs' `messages.countTokens`, Claude Code's context accounting), auxiliary as
 * Anthropic's own is: nothing is generated or charged, the audit line names the model.
 * bedrock-mantle serves Anthropic's count_tokens itself, so with `messages_endpoint: mantle`
 * it is forwarded as the Messages path is. The Runtime has no such path: its CountTokens
 * operation (`POST /model/{modelId}/count-tokens`) takes the InvokeModel body Claude would
 * get, base64 in `{"input":{"invokeModel":{"body"}}}`, for a foundation model;
 * `count-tokens-answer.ts` turns its answer into Anthropic's.
 */
import { createKey, GatewayError, shapeText, type BodyStrings, type JsonReads, type RequestContext } from '../../core/index.js';
import { headerBetas, type BetaAllowlist } from './betas.js';
import { RUNTIME_VERSION } from './messages.js';
import { baseModelId } from './model-id.js';
import { encodeModelId } from './paths.js';

/**
 * The Runtime's CountTokens path segment, encoded in `inspect` so an id no path can name is
 * refused before any filter counts it. CountTokens names foundation models: a cross-region
 * profile or an ARN that names one is counted on that base model (its tokenizer is the
 * model's), anything else as it is written.
 */
export const COUNT_MODEL_SEGMENT = createKey<string>('bedrock.count-tokens.model-segment');

/** A count's model, and nothing else: its prompt is as long as the Messages request it stands for. */
const MODEL_READS: JsonReads = { members: { model: { text: true } } };

function invalid(message: string, param?: string): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_INVALID', message, param ? { param } : undefined);
}

/** A count, classified: auxiliary, for the model its body names (which the Runtime's path must name). */
export function inspectCount(ctx: RequestContext): void {
  if (ctx.method !== 'POST') throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on /anthropic/v1/messages/count_tokens; POST a count_tokens request`);
  ctx.kind = 'auxiliary';
  const body = ctx.jsonPick(MODEL_READS) as { model?: unknown } | null;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('The request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model === '') throw invalid('model: is required: the Bedrock model id or inference profile', 'model');
  ctx.model = shapeText(body.model);
  ctx.baseModel = baseModelId(ctx.model);
  ctx.set(COUNT_MODEL_SEGMENT, encodeModelId(ctx.baseModel ?? ctx.model));
}

/**
 * The InvokeModel body Claude on Bedrock takes for `request` (Anthropic's count_tokens
 * body): the model leaves the body for the path, the Runtime's `anthropic_version` is
 * added when absent, and so is a `max_tokens`. The client's `anthropic-beta` header
 * (`betaHeader`) joins the body's `anthropic_beta`, where InvokeModel reads betas.
 * @example
 * invokeModelBody({ model: 'm', messages: [] }, TEXT_STRINGS, 'a,b').toString()
 * // '{"anthropic_version":"bedrock-2023-05-31","messages":[],"max_tokens":1,"anthropic_beta":["a","b"]}'
 */
export function invokeModelBody(request: Record<string, unknown>, strings: BodyStrings, betaHeader?: string | string[]): Buffer {
  return strings.serialize(invokeModelRequest(request, strings, betaHeader));
}

/** {@link invokeModelBody}'s value, before it is serialised (the betas allowlist may shorten it). */
function invokeModelRequest(request: Record<string, unknown>, strings: BodyStrings, betaHeader?: string | string[]): Record<string, unknown> {
  const { model: _model, ...rest } = request;
  const body: Record<string, unknown> = rest.anthropic_version === undefined ? { anthropic_version: strings.of(RUNTIME_VERSION), ...rest } : rest;
  // InvokeModel refuses a Claude body without `max_tokens`, which count_tokens does not
  // take; only the input is counted, so any cap will do.
  if (body.max_tokens === undefined) body.max_tokens = 1;
  if (betaHeader !== undefined) {
    const betas = withHeaderBetas(body.anthropic_beta, betaHeader, strings);
    if (betas) body.anthropic_beta = betas;
  }
  return body;
}

/**
 * The body's betas followed by the header's (comma-separated, as Anthropic takes them), each
 * once, in order; undefined when there is nothing to add or the body's member is not a list
 * (left for the Runtime to refuse, as it would the client's own body).
 */
function withHeaderBetas(inBody: unknown, header: string | string[], strings: BodyStrings): unknown[] | undefined {
  if (inBody !== undefined && !Array.isArray(inBody)) return undefined;
  const out: unknown[] = inBody ? [...inBody] : [];
  const seen = new Set(out.map((b) => (typeof b === 'string' ? strings.text(b) : b)));
  const before = out.length;
  for (const beta of headerBetas(header)) {
    if (seen.has(beta)) continue;
    seen.add(beta);
    out.push(strings.of(beta));
  }
  return out.length > before ? out : undefined;
}

const ENVELOPE_HEAD = Buffer.from('{"input":{"invokeModel":{"body":"');
const ENVELOPE_TAIL = Buffer.from('"}}}');

/**
 * The Runtime's CountTokens call for this count: its path under `basePath` and its body,
 * the InvokeModel body in base64 (a blob in AWS's JSON protocol), its betas (the body's and
 * the header's) only those `allowlist` names when there is one.
 */
export function countTokensCall(ctx: RequestContext, basePath: string, allowlist?: BetaAllowlist): { path: string; body: Buffer } {
  const segment = ctx.get(COUNT_MODEL_SEGMENT) ?? encodeModelId(ctx.model ?? '');
  const { value, strings } = ctx.rewritableBody();
  const request = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const merged = invokeModelRequest(request, strings, ctx.headers['anthropic-beta']);
  const invoke = strings.serialize(allowlist ? allowlist.filterModelBody(ctx, merged, strings) : merged);
  return { path: `${basePath}/model/${segment}/count-tokens`, body: Buffer.concat([ENVELOPE_HEAD, Buffer.from(invoke.toString('base64')), ENVELOPE_TAIL]) };
}
