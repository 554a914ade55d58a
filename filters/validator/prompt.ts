/**
 * Measuring a prompt across the request shapes the gateway carries (Anthropic, OpenAI chat
 * and Responses, Gemini, Bedrock Converse / Titan) without parsing each.
 */

// Keys whose string values are prompt text; image data, ids and roles are not.
const TEXT_KEYS = new Set(['text', 'content', 'system', 'prompt', 'inputText', 'input']);
// `instructions` is the Responses API's system prompt: a client moving its text there from
// `input` must not leave the limits' sight. `suffix`: the code after the cursor in a
// fill-in-the-middle (or completions) request.
// Gemini's `system_instruction`: its JSON takes the proto's spelling as well. `inputs`: a
// Mistral conversation's new entries (a string, or entries with their `content`).
const PROMPT_FIELDS = ['system', 'messages', 'prompt', 'suffix', 'contents', 'systemInstruction', 'system_instruction', 'inputText', 'input', 'inputs', 'instructions'];

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
