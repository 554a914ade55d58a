/**
 * Classifying a request before the filter chain sees it: Messages (and the legacy Text
 * Completions) calls are `generation`, with model, stream flag and output cap read from
 * the JSON body; everything else (count_tokens, models, files, batches, Claude Code's
 * event logging) is `auxiliary` and its body is never parsed.
 */
import { createKey, GatewayError, shapeText, type RequestContext } from '../../core/index.js';
import { upstreamPath } from './paths.js';

/** The checked upstream path, computed once in `inspect` and used by `passthrough`. */
export const UPSTREAM_PATH = createKey<string>('anthropic.upstream-path');

interface GenerationBody {
  model?: unknown;
  stream?: unknown;
  max_tokens?: unknown;
  max_tokens_to_sample?: unknown;
}

/** Upstream paths (after mapping, query removed) whose POST generates tokens. */
const GENERATION = new Set(['/v1/messages', '/v1/complete']);

export function inspectRequest(ctx: RequestContext, basePath: string): void {
  const path = upstreamPath(ctx.subpath, ctx.query, basePath);
  ctx.set(UPSTREAM_PATH, path);
  ctx.kind = 'auxiliary';
  if (ctx.method !== 'POST') return;
  const q = path.indexOf('?');
  const bare = (q < 0 ? path : path.slice(0, q)).slice(basePath.length).replace(/\/$/, '');
  if (!GENERATION.has(bare)) return;
  ctx.kind = 'generation';
  // Parsed whatever the content-type says: a mislabelled body must not dodge model or token policy.
  // Its shape: the prompt's text is not decoded for a model name and two numbers.
  const body = ctx.jsonShape() as GenerationBody | null;
  // Not a request object at all: nothing a filter could check, so it goes no further.
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new GatewayError('GW_ERR_REQUEST_INVALID', 'The request body must be a JSON object');
  if (typeof body.model === 'string') ctx.model = shapeText(body.model);
  ctx.stream = body.stream === true;
  const cap = typeof body.max_tokens === 'number' ? body.max_tokens : body.max_tokens_to_sample;
  if (typeof cap === 'number' && Number.isFinite(cap)) ctx.maxOutputTokens = cap;
}
