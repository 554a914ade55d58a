/**
 * The output-token caps of a request body, across the shapes the gateway carries: which one
 * is over a maximum, and a copy with every such one lowered to it.
 */
import { isTokenCount, unionReads, type JsonReads } from '../../core/index.js';

/** Where each API keeps its output-token cap (the places `inspect`s read it from). */
const CAP_PATHS: ReadonlyArray<readonly string[]> = [
  ['max_tokens'],
  ['max_completion_tokens'],
  ['max_output_tokens'],
  ['generationConfig', 'maxOutputTokens'],
  // Google reads its JSON by the proto's own field names too (its batch docs send
  // `input_config`), each level either way: `generation_config.max_output_tokens` is the same cap.
  ['generation_config', 'max_output_tokens'],
  ['generation_config', 'maxOutputTokens'],
  ['generationConfig', 'max_output_tokens'],
  ['inferenceConfig', 'maxTokens'],
  ['textGenerationConfig', 'maxTokenCount'],
  // Mistral's Conversations API.
  ['completion_args', 'max_tokens'],
  // Bedrock's older native bodies: Claude's text completions, Llama, AI21 Jurassic-2.
  ['max_tokens_to_sample'],
  ['max_gen_len'],
  ['maxTokens'],
];

/** The gateway's Bedrock `/invoke` wraps the model's own body: `{ model_id, body, stream }`. */
const ENVELOPE_BODY = 'body';

function readsOf(paths: ReadonlyArray<readonly string[]>): JsonReads {
  const members: Record<string, JsonReads> = {};
  for (const [first, ...rest] of paths) members[first] = rest.length === 0 ? {} : unionReads(members[first] ?? {}, readsOf([rest]));
  return { members };
}

/** What {@link capOver} reads, for `ctx.jsonPick`: every cap, at the top level and in an `/invoke` envelope. */
export const CAP_READS: JsonReads = readsOf([...CAP_PATHS, ...CAP_PATHS.map((path) => [ENVELOPE_BODY, ...path])]);

function plainObject(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Whether a cap's value keeps to `max`: absent or null (the API's default, which the
 * maximum does not constrain), or a token count no larger. Anything else is over it: a
 * string may be read as a number upstream, and a number past core's MAX_TOKEN_COUNT is no
 * cap to the rate limiter (core/token-count.ts) but a very large one to the model.
 */
function within(value: unknown, max: number): boolean {
  return value === undefined || value === null || (isTokenCount(value) && value <= max);
}

/** A cap over the maximum: where it is (`generationConfig.maxOutputTokens`) and what it holds. */
export interface CapOver {
  readonly field: string;
  readonly value: unknown;
}

/**
 * The cap in `body` furthest over `max` (the largest number; else the first value that is
 * no token count), or undefined when every cap keeps to it. All of them are judged, not
 * the one an `inspect` read: an upstream may honour another (`max_tokens` beside
 * `max_completion_tokens`), and an `/invoke` envelope's model body as well as its top level.
 */
export function capOver(body: unknown, max: number): CapOver | undefined {
  const top = plainObject(body);
  if (!top) return undefined;
  const worst = worstCap(top, '', max, undefined);
  const inner = plainObject(top[ENVELOPE_BODY]);
  return inner ? worstCap(inner, `${ENVELOPE_BODY}.`, max, worst) : worst;
}

/**
 * {@link capOver} over one level's fields, `worst` so far carried in. A function of its
 * own and paths walked by index: every request is judged, and a closure and a sliced array
 * per cap path were ~600 bytes of garbage each time.
 */
function worstCap(fields: Record<string, unknown>, prefix: string, max: number, worst: CapOver | undefined): CapOver | undefined {
  for (const path of CAP_PATHS) {
    const value = capAt(fields, path);
    if (within(value, max)) continue;
    const larger = typeof value === 'number' && !(typeof worst?.value === 'number' && worst.value >= value);
    if (!worst || larger) worst = { field: prefix + path.join('.'), value };
  }
  return worst;
}

/** The value at `path` under `fields`, undefined where a level on the way is no object. */
function capAt(fields: Record<string, unknown>, path: readonly string[]): unknown {
  let parent: Record<string, unknown> | undefined = fields;
  const last = path.length - 1;
  for (let i = 0; i < last && parent; i++) parent = plainObject(parent[path[i]]);
  return parent?.[path[last]];
}

/**
 * A copy of `body` with every output cap over `max` (by {@link capOver}'s rule) set to it,
 * or undefined when the body keeps no cap over `max` where this knows (the caller then
 * refuses instead). Every place is lowered, not the first found: a body naming both
 * `max_tokens` and `max_completion_tokens` must not keep either above the maximum. An
 * `/invoke` envelope's model body (one level) is lowered as well as the top level.
 *
 * Only the objects on a cap's path are copied; the rest — the prompt — is shared, not
 * cloned: a deep copy of a coding agent's 100 KB turn cost ~180 µs, and its strings,
 * copied, are no longer the ones the body scanner knows the literals of (`strings.serialize`).
 */
export function withCap(body: Record<string, unknown>, max: number): Record<string, unknown> | undefined {
  const capped = lowerCaps(body, max);
  const inner = plainObject(body[ENVELOPE_BODY]);
  const cappedInner = inner && lowerCaps(inner, max);
  return cappedInner ? { ...(capped ?? body), [ENVELOPE_BODY]: cappedInner } : capped;
}

/** {@link withCap} on `body`'s own members: a copy with its caps over `max` lowered, or undefined if none is. */
function lowerCaps(body: Record<string, unknown>, max: number): Record<string, unknown> | undefined {
  let copy: Record<string, unknown> | undefined;
  for (const path of CAP_PATHS) {
    let parent: Record<string, unknown> | undefined = body;
    for (const key of path.slice(0, -1)) parent = plainObject(parent?.[key]);
    const last = path[path.length - 1];
    if (!parent || within(parent[last], max)) continue;
    copy ??= { ...body };
    let target = copy;
    // Copied from the copy: a second cap under the same object keeps the first's change.
    for (const key of path.slice(0, -1)) target = target[key] = { ...(target[key] as Record<string, unknown>) };
    target[last] = max;
  }
  return copy;
}
