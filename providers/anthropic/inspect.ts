/**
 * Classifying a request before the filter chain sees it: Messages (and the legacy Text
 * Completions) calls are `generation`, with model, stream flag and output cap read from
 * the JSON body; everything else (count_tokens, models, files, batches, Claude Code's
 * event logging) is `auxiliary`, and of those only a count_tokens body is read, for its
 * model. A Message Batch
 * create is marked as one (`ctx.batch`), so policy filters judge the Messages requests
 * it holds.
 */
import { createKey, GatewayError, shapeText, type BatchSubmission, type JsonReads, type RequestContext } from '../../core/index.js';
import { upstreamPath } from './paths.js';
import { holdsBatchObjects } from './batch-urls.js';

/** The checked upstream path, computed once in `inspect` and used by `passthrough`. */
export const UPSTREAM_PATH = createKey<string>('anthropic.upstream-path');

interface GenerationBody {
  model?: unknown;
  stream?: unknown;
  max_tokens?: unknown;
  max_tokens_to_sample?: unknown;
}

/** What inspect looks at: a model name and two numbers, out of a body that may be 100 KB of an agent's turn. */
const GENERATION_READS: JsonReads = { members: { model: { text: true }, stream: {}, max_tokens: {}, max_tokens_to_sample: {} } };

/** Upstream paths (after mapping, query removed) whose POST generates tokens. */
const GENERATION = new Set(['/v1/messages', '/v1/complete']);

/** Where a POST counts a Messages request's input tokens: auxiliary, but for a named model. */
const COUNT_TOKENS = '/v1/messages/count_tokens';
/** A count's model, and nothing else: its prompt is as long as the Messages request it stands for. */
const MODEL_READS: JsonReads = { members: { model: { text: true } } };

/** Where a POST uploads a file (multipart, up to 500 MB). */
const FILES = '/v1/files';

/** Where a POST creates a Message Batch: `{ requests: [{ custom_id, params: <a Messages request> }] }`. */
const BATCH_CREATE = '/v1/messages/batches';
const MESSAGE_BATCH: BatchSubmission = Object.freeze({ inline: Object.freeze({ list: ['requests'], body: ['params'] }) });

/** Where a subpath goes upstream, and whether a POST there generates tokens or creates a batch. */
interface MappedPath {
  path: string;
  generation: boolean;
  batch: boolean;
  /** Its GET and POST answers hold Message Batch objects, whose `results_url` is rewritten (batch-urls.ts). */
  batchObjects: boolean;
  /** A POST counts tokens for the model its body names. */
  countTokens: boolean;
  /** A POST uploads a file (the Files API): its body is streamed, not read (Provider.isUpload). */
  upload: boolean;
}

/** Distinct subpaths (with their queries) remembered; they come from clients, so the memo is bounded. */
const MAPPED_MAX = 256;

/**
 * Subpaths mapped once per provider: clients send the same few (`/v1/messages`, …), so
 * `upstreamPath`'s checks and joins run per distinct path rather than per request. A path
 * it refuses is never remembered.
 */
export class AnthropicPaths {
  private readonly mapped = new Map<string, MappedPath>();

  constructor(private readonly basePath: string) {}

  map(subpath: string, query: string): MappedPath {
    // Claude Code asks for `/v1/messages?beta=true` every time: queries repeat too.
    const key = query === '' ? subpath : `${subpath}?${query}`;
    let m = this.mapped.get(key);
    if (m === undefined) {
      m = this.compute(subpath, query);
      if (this.mapped.size >= MAPPED_MAX) this.mapped.clear();
      this.mapped.set(key, m);
    }
    return m;
  }

  private compute(subpath: string, query: string): MappedPath {
    const path = upstreamPath(subpath, query, this.basePath);
    const q = path.indexOf('?');
    const bare = (q < 0 ? path : path.slice(0, q)).slice(this.basePath.length).replace(/\/$/, '');
    return { path, generation: GENERATION.has(bare), batch: bare === BATCH_CREATE, batchObjects: holdsBatchObjects(bare), countTokens: bare === COUNT_TOKENS, upload: bare === FILES };
  }
}

export function inspectRequest(ctx: RequestContext, paths: AnthropicPaths): void {
  const { path, generation, batch, countTokens } = paths.map(ctx.subpath, ctx.query);
  ctx.set(UPSTREAM_PATH, path);
  ctx.kind = 'auxiliary';
  if (ctx.method !== 'POST') return;
  if (countTokens) {
    // Still auxiliary (nothing is generated or charged); the audit line names the model
    // counted for, as Gemini's and Bedrock's count lines do from their paths.
    const count = ctx.jsonPick(MODEL_READS) as GenerationBody | null;
    if (count && typeof count === 'object' && typeof count.model === 'string') ctx.model = shapeText(count.model);
    return;
  }
  // Still auxiliary: its tokens are known only when the batch ends, as with OpenAI's.
  if (batch) ctx.batch = MESSAGE_BATCH;
  if (!generation) return;
  ctx.kind = 'generation';
  // Parsed whatever the content-type says: a mislabelled body must not dodge model or token policy.
  // Just those fields: the prompt, tools and tool results are neither decoded nor built.
  const body = ctx.jsonPick(GENERATION_READS) as GenerationBody | null;
  // Not a request object at all: nothing a filter could check, so it goes no further.
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new GatewayError('GW_ERR_REQUEST_INVALID', 'The request body must be a JSON object');
  if (typeof body.model === 'string') ctx.model = shapeText(body.model);
  ctx.stream = body.stream === true;
  const cap = typeof body.max_tokens === 'number' ? body.max_tokens : body.max_tokens_to_sample;
  if (typeof cap === 'number') ctx.maxOutputTokens = cap; // kept only if a token count (Context)
}
