/**
 * Classifying a Gemini call before the filter chain: `generateContent` and
 * `streamGenerateContent` are `generation` (model from the path, stream from the method,
 * output cap from `generationConfig.maxOutputTokens`, how many candidates from its
 * `candidateCount`); `countTokens`, model lists and everything else are `auxiliary` and
 * their bodies are never parsed, but for a batch create (`batchGenerateContent`), marked as
 * one (`ctx.batch`, see `batch.ts`) so policy filters judge the requests it holds.
 */
import { createKey, type JsonReads, type RequestContext } from '../../core/index.js';
import { geminiBatch } from './batch.js';
import { modelCall, upstreamPath } from './paths.js';

/** The checked upstream path, computed once in `inspect` and used by `passthrough`. */
export const UPSTREAM_PATH = createKey<string>('gemini.upstream-path');

const GENERATION = new Set(['generateContent', 'streamGenerateContent']);
const BATCH_CREATE = 'batchGenerateContent';

/** The two fields inspect reads. */
const GENERATION_READS: JsonReads = { members: { generationConfig: { members: { maxOutputTokens: {}, candidateCount: {} } } } };

interface GenerationBody {
  generationConfig?: { maxOutputTokens?: unknown; candidateCount?: unknown } | null;
}

export function inspectRequest(ctx: RequestContext, basePath: string): void {
  const path = upstreamPath(ctx.subpath, ctx.query, basePath);
  ctx.set(UPSTREAM_PATH, path);
  ctx.kind = 'auxiliary';
  const q = path.indexOf('?');
  const segments = (q < 0 ? path : path.slice(0, q)).slice(basePath.length).split('/').filter((s) => s !== '');
  const call = modelCall(segments);
  if (!call) return;
  if (call.model !== '') ctx.model = call.model;
  if (ctx.method !== 'POST') return;
  // Still auxiliary: its tokens are known only when the batch ends.
  if (call.method === BATCH_CREATE) ctx.batch = geminiBatch(ctx, call.model);
  if (!GENERATION.has(call.method)) return;
  ctx.kind = 'generation';
  ctx.stream = call.method === 'streamGenerateContent';
  // Parsed whatever the content-type says: a mislabelled body must not dodge token policy.
  const body = ctx.jsonPick(GENERATION_READS) as GenerationBody | null; // only a number is read
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  const cap = body.generationConfig?.maxOutputTokens;
  if (typeof cap === 'number') ctx.maxOutputTokens = cap; // kept only if a token count (Context)
  // Each candidate may run to the cap.
  const choices = body.generationConfig?.candidateCount;
  if (typeof choices === 'number') ctx.outputChoices = choices;
}
