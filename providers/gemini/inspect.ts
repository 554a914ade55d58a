/**
 * Classifying a Gemini call before the filter chain: `generateContent` and
 * `streamGenerateContent` are `generation` (model from the path, stream from the method,
 * output cap from `generationConfig.maxOutputTokens`, how many candidates from its
 * `candidateCount`, either spelled the proto's way); `countTokens`, model lists and everything else are `auxiliary` and
 * their bodies are never parsed, but for a batch create (`batchGenerateContent`), marked as
 * one (`ctx.batch`, see `batch.ts`) so policy filters judge the requests it holds.
 */
import { createKey, largestNumber, type JsonReads, type RequestContext } from '../../core/index.js';
import { geminiBatch } from './batch.js';
import { modelCall, upstreamPath } from './paths.js';

/** The checked upstream path, computed once in `inspect` and used by `passthrough`. */
export const UPSTREAM_PATH = createKey<string>('gemini.upstream-path');

const GENERATION = new Set(['generateContent', 'streamGenerateContent']);
const BATCH_CREATE = 'batchGenerateContent';

/**
 * The two fields inspect reads, in both spellings Google's JSON accepts at each level
 * (`generation_config.max_output_tokens` is the same cap): the validator judges all four,
 * and the reservation must not be the cheaper one.
 */
const CONFIG_NAMES = ['generationConfig', 'generation_config'] as const;
const CAP_NAMES = ['maxOutputTokens', 'max_output_tokens'] as const;
const CHOICE_NAMES = ['candidateCount', 'candidate_count'] as const;
const CONFIG_READS: JsonReads = { members: Object.fromEntries([...CAP_NAMES, ...CHOICE_NAMES].map((name) => [name, {}])) };
const GENERATION_READS: JsonReads = { members: Object.fromEntries(CONFIG_NAMES.map((name) => [name, CONFIG_READS])) };

type GenerationBody = Partial<Record<(typeof CONFIG_NAMES)[number], Record<string, unknown> | null>>;

/** The largest number any spelling of `names` holds in either spelling of the config, if one does. */
function largest(body: GenerationBody, names: readonly string[]): number | undefined {
  return largestNumber(CONFIG_NAMES.flatMap((config) => {
    const object = body[config];
    return object && typeof object === 'object' ? names.map((name) => object[name]) : [];
  }));
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
  const cap = largest(body, CAP_NAMES);
  if (cap !== undefined) ctx.maxOutputTokens = cap; // kept only if a token count (Context)
  // Each candidate may run to the cap.
  const choices = largest(body, CHOICE_NAMES);
  if (choices !== undefined) ctx.outputChoices = choices;
}
