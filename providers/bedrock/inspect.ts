/**
 * Classifying a request before the filter chain sees it: the four Runtime generation
 * operations, the Anthropic Messages API (`messages.ts`) and the gateway's `/invoke` are `generation`, with the model from the path
 * (or `model_id`), the stream flag from the operation (or `stream`), and the output cap
 * from the body in whichever dialect the model speaks. Everything else is `auxiliary`,
 * the Messages API's count_tokens (`count-tokens.ts`) and the control plane's catalogue reads too (any other method on them is refused);
 * StartAsyncInvoke (`POST /async-invoke`) is marked as the generation it submits to run
 * later (`ctx.batch`), so policy filters judge its model and its body.
 */
import { createKey, GatewayError, largestNumber, shapeText, type BatchSubmission, type BodyStrings, type JsonReads, type RequestContext } from '../../core/index.js';
import { inspectCount } from './count-tokens.js';
import { inspectMessages } from './messages.js';
import { baseModelId } from './model-id.js';
import { bedrockPath, encodeModelId, type BedrockPath } from './paths.js';

/** The parsed path, computed once in `inspect` and used by `passthrough`. */
export const BEDROCK_PATH = createKey<BedrockPath>('bedrock.path');

/** What `inspect` read from the gateway's `POST /invoke`, checked. */
export interface ConvenienceRequest {
  readonly modelId: string;
  /** `modelId` as its path segment: encoded in `inspect`, so an id no path can name is refused before any filter counts it. */
  readonly modelSegment: string;
  readonly stream: boolean;
}
export const CONVENIENCE = createKey<ConvenienceRequest>('bedrock.convenience');

/** The model's own request inside an `/invoke` envelope, to send re-serialised by `strings.serialize`. */
export interface ConvenienceBody {
  readonly body: Record<string, unknown>;
  readonly strings: BodyStrings;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** What {@link outputCap} and {@link outputChoices} read, for `ctx.jsonPick`. */
const OUTPUT_READS: JsonReads = {
  members: {
    max_tokens: {},
    inferenceConfig: { members: { maxTokens: {} } },
    textGenerationConfig: { members: { maxTokenCount: {} } },
    max_tokens_to_sample: {},
    max_gen_len: {},
    maxTokens: {},
    num_generations: {},
    numResults: {},
    n: {},
  },
};

/**
 * The output cap a model body asks for: Anthropic `max_tokens` (or the legacy
 * `max_tokens_to_sample`), Converse `inferenceConfig.maxTokens`, Titan
 * `textGenerationConfig.maxTokenCount`, Llama `max_gen_len`, AI21 Jurassic-2 `maxTokens`.
 */
export function outputCap(body: Json): number | undefined {
  return (
    finite(body.max_tokens) ??
    finite(obj(body.inferenceConfig)?.maxTokens) ??
    finite(obj(body.textGenerationConfig)?.maxTokenCount) ??
    finite(body.max_tokens_to_sample) ??
    finite(body.max_gen_len) ??
    finite(body.maxTokens)
  );
}

/**
 * How many completions a model body asks for, each up to the cap: Cohere Command's
 * `num_generations`, AI21 Jurassic's `numResults`, AI21 Jamba's `n` (the largest if a body
 * holds several); `undefined` when none is a number (one completion).
 */
export function outputChoices(body: Json): number | undefined {
  return largestNumber([body.num_generations, body.numResults, body.n]);
}

/** The reservation's cap and count of completions, from the model's body. */
function readOutput(ctx: RequestContext, body: Json): void {
  ctx.maxOutputTokens = outputCap(body);
  const choices = outputChoices(body);
  if (choices !== undefined) ctx.outputChoices = choices; // `num_generations: 5` generates up to 5 × the cap
}

function invalid(field: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_INVALID', `${field}: ${message}`, { param: field });
}

function envelope(ctx: RequestContext): { req: Json; strings: BodyStrings } {
  // Re-serialised, not read: the prompt's text need not be decoded.
  const { value, strings } = ctx.rewritableBody();
  const req = obj(value);
  if (!req) throw invalid('(body)', 'must be a JSON object');
  return { req, strings };
}

function modelBody(req: Json): Json {
  const body = obj(req.body);
  if (!body) throw invalid('body', "is required: the model's own request body, as a JSON object");
  return body;
}

/**
 * The model's body of an `/invoke` request as it is now: read again at each call, not kept
 * from `inspect`, so what a filter rewrote (the validator's clamp of `body.max_tokens`) is
 * what goes upstream. The first attempt finds `inspect`'s reading still cached.
 */
export function convenienceBody(ctx: RequestContext): ConvenienceBody {
  const { req, strings } = envelope(ctx);
  return { body: modelBody(req), strings };
}

/** StartAsyncInvoke's body: `{ clientRequestToken, modelId, modelInput: <the model's body>, outputDataConfig }`. */
const ASYNC_MODEL_READS: JsonReads = { members: { modelId: { text: true } } };
const ASYNC_INPUT = Object.freeze(['modelInput']);

/**
 * What a StartAsyncInvoke submits, for `ctx.batch`: one generation, its body at
 * `modelInput` and its model at `modelId`, named as the path's id of an InvokeModel is (as
 * written: a model id, an inference profile or an ARN).
 */
function asyncInvocation(ctx: RequestContext): BatchSubmission {
  let body: Json | undefined;
  try {
    body = obj(ctx.jsonPick(ASYNC_MODEL_READS));
  } catch {
    return { single: ASYNC_INPUT }; // not JSON: the upstream's to refuse, unless a policy reads it first
  }
  const modelId = body?.modelId;
  if (typeof modelId !== 'string') return { single: ASYNC_INPUT };
  const name = shapeText(modelId);
  const base = baseModelId(name);
  return { single: ASYNC_INPUT, model: base === undefined ? { name, field: 'modelId' } : { name, field: 'modelId', base } };
}

/** The model as the client named it, and the base id a profile or ARN names (allowlists and prices match either). */
function setModel(ctx: RequestContext, reference: string): void {
  ctx.model = reference;
  ctx.baseModel = baseModelId(reference);
}

export function inspectRequest(ctx: RequestContext, basePath: string): void {
  const path = bedrockPath(ctx.subpath, ctx.query, basePath);
  ctx.set(BEDROCK_PATH, path);
  ctx.kind = 'auxiliary';
  if (path.op === 'control') {
    // Only reads: a workspace must not create, tag or delete profiles with the gateway's role.
    if (ctx.method !== 'GET') throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.subpath}: the gateway forwards only reads (GET) of the Bedrock control plane`);
    return;
  }
  if (path.modelId !== undefined) setModel(ctx, path.modelId);
  if (path.op === 'convenience') {
    if (ctx.method !== 'POST') throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on /invoke; POST {"model_id", "body"}`);
    ctx.kind = 'generation';
    const { req, strings } = envelope(ctx);
    if (typeof req.model_id !== 'string' || req.model_id === '') throw invalid('model_id', 'is required: the Bedrock model id, inference profile or ARN');
    const modelId = strings.text(req.model_id);
    const modelSegment = encodeModelId(modelId, 'model_id');
    const body = modelBody(req);
    if (req.stream !== undefined && typeof req.stream !== 'boolean') throw invalid('stream', 'must be a boolean');
    const stream = req.stream === true;
    ctx.set(CONVENIENCE, { modelId, modelSegment, stream });
    setModel(ctx, modelId);
    ctx.stream = stream;
    readOutput(ctx, body);
    return;
  }
  if (path.op === 'messages') return inspectMessages(ctx);
  if (path.op === 'messages-count') return inspectCount(ctx);
  if (path.op === 'async-invoke' && ctx.method === 'POST') {
    // Still auxiliary: the generation runs later and its tokens are never reported here.
    ctx.batch = asyncInvocation(ctx);
    if (ctx.batch.model) setModel(ctx, ctx.batch.model.name);
    return;
  }
  if (path.op === 'other' || path.op === 'async-invoke' || ctx.method !== 'POST') return;
  ctx.kind = 'generation';
  ctx.stream = path.op === 'invoke-with-response-stream' || path.op === 'converse-stream';
  // Parsed whatever the content-type says: a mislabelled body must not dodge token policy.
  // Only the output cap and the count of completions, numbers, are read.
  const body = obj(ctx.jsonPick(OUTPUT_READS));
  if (body) readOutput(ctx, body);
}
