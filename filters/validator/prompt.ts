/**
 * Measuring a prompt and rewriting its output cap, across the request shapes the gateway
 * carries (Anthropic, OpenAI, Gemini, Bedrock Converse / Titan) without parsing each.
 */

// Keys whose string values are prompt text; image data, ids and roles are not.
const TEXT_KEYS = new Set(['text', 'content', 'system', 'prompt', 'inputText', 'input']);
const PROMPT_FIELDS = ['system', 'messages', 'prompt', 'contents', 'systemInstruction', 'inputText', 'input'];

function count(value: unknown, key: string, depth: number): number {
  if (depth > 64) return 0;
  if (typeof value === 'string') return TEXT_KEYS.has(key) ? value.length : 0;
  let n = 0;
  if (Array.isArray(value)) for (const v of value) n += count(v, key, depth + 1);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) n += count(v, k, depth + 1);
  return n;
}

/** Characters of prompt text in a request body. */
export function promptChars(body: Record<string, unknown>): number {
  let n = 0;
  for (const field of PROMPT_FIELDS) if (field in body) n += count(body[field], field === 'messages' || field === 'contents' ? '' : 'text', 0);
  return n;
}

/** Where each API keeps its output-token cap (the places `inspect`s read it from). */
const CAP_PATHS: ReadonlyArray<readonly string[]> = [
  ['max_tokens'],
  ['max_completion_tokens'],
  ['max_output_tokens'],
  ['generationConfig', 'maxOutputTokens'],
  ['inferenceConfig', 'maxTokens'],
  ['textGenerationConfig', 'maxTokenCount'],
  // Bedrock's older native bodies: Claude's text completions, Llama.
  ['max_tokens_to_sample'],
  ['max_gen_len'],
];

/** The gateway's Bedrock `/invoke` wraps the model's own body: `{ model_id, body, stream }`. */
const ENVELOPE_BODY = 'body';

function plainObject(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * A copy of `body` with every output cap above `max` lowered to it, or undefined when the
 * body keeps no cap above `max` where this knows (the caller then refuses instead). Every
 * place is lowered, not the first found: a body naming both `max_tokens` and
 * `max_completion_tokens` must not keep either above the maximum. An `/invoke` envelope
 * is looked into (one level) when its top level holds no such cap.
 *
 * Only the objects on a cap's path are copied; the rest — the prompt — is shared, not
 * cloned: a deep copy of a coding agent's 100 KB turn cost ~180 µs, and its strings,
 * copied, are no longer the ones the body scanner knows the literals of (`strings.serialize`).
 */
export function withCap(body: Record<string, unknown>, max: number): Record<string, unknown> | undefined {
  const capped = lowerCaps(body, max);
  if (capped) return capped;
  const inner = plainObject(body[ENVELOPE_BODY]);
  const cappedInner = inner && lowerCaps(inner, max);
  return cappedInner ? { ...body, [ENVELOPE_BODY]: cappedInner } : undefined;
}

/** {@link withCap} on `body`'s own members: a copy with its caps above `max` lowered, or undefined if none is. */
function lowerCaps(body: Record<string, unknown>, max: number): Record<string, unknown> | undefined {
  let copy: Record<string, unknown> | undefined;
  for (const path of CAP_PATHS) {
    let parent: Record<string, unknown> | undefined = body;
    for (const key of path.slice(0, -1)) parent = plainObject(parent?.[key]);
    const last = path[path.length - 1];
    const value = parent?.[last];
    if (typeof value !== 'number' || value <= max) continue;
    copy ??= { ...body };
    let target = copy;
    // Copied from the copy: a second cap under the same object keeps the first's change.
    for (const key of path.slice(0, -1)) target = target[key] = { ...(target[key] as Record<string, unknown>) };
    target[last] = max;
  }
  return copy;
}
