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

/** Where each API keeps its output-token cap, most common first. */
const CAP_PATHS: ReadonlyArray<readonly string[]> = [
  ['max_tokens'],
  ['max_completion_tokens'],
  ['max_output_tokens'],
  ['generationConfig', 'maxOutputTokens'],
  ['inferenceConfig', 'maxTokens'],
  ['textGenerationConfig', 'maxTokenCount'],
];

/**
 * A copy of `body` with its output cap lowered to `max`, or undefined when the body keeps
 * its cap somewhere this does not know (the caller then refuses instead). Only the objects
 * on the cap's path are copied; the rest — the prompt — is shared, not cloned: a deep copy
 * of a coding agent's 100 KB turn cost ~180 µs, and its strings, copied, are no longer
 * the ones the body scanner knows the literals of (`strings.serialize`).
 */
export function withCap(body: Record<string, unknown>, max: number): Record<string, unknown> | undefined {
  for (const path of CAP_PATHS) {
    let parent: Record<string, unknown> | undefined = body;
    for (const key of path.slice(0, -1)) {
      const next: unknown = parent?.[key];
      parent = next && typeof next === 'object' && !Array.isArray(next) ? (next as Record<string, unknown>) : undefined;
    }
    const last = path[path.length - 1];
    if (!parent || typeof parent[last] !== 'number') continue;
    const copy = { ...body };
    let target = copy;
    for (const key of path.slice(0, -1)) target = target[key] = { ...(target[key] as Record<string, unknown>) };
    target[last] = max;
    return copy;
  }
  return undefined;
}
