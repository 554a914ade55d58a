/**
 * Requests whose answer depends on state the upstream keeps and changes between calls: two
 * identical bodies are then two different requests, and answering the second from the cache
 * serves a stale answer and keeps the turn from the upstream's state (an agent sending
 * "continue" to a conversation would get the same step for ever). Such requests are never
 * cached, `x-gateway-cache: on` or not.
 *
 * What names fixed state stays cacheable: `previous_response_id` (a stored response does not
 * change, and its id is in the key with the rest of the body), a version-pinned stored prompt,
 * Gemini's `cachedContent`. `store: true` only keeps the answer upstream; a hit hands back
 * the id of the response stored the first time, which can still be retrieved.
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A code interpreter tool run in a named container (an id, not `{ "type": "auto" }`): its files persist and change. */
function namesContainer(tools: unknown): boolean {
  if (!Array.isArray(tools)) return false;
  for (const tool of tools) if (isObject(tool) && tool.type === 'code_interpreter' && typeof tool.container === 'string') return true;
  return false;
}

/** True when `body` names upstream state that each call may change. */
export function dependsOnMutableState(body: Record<string, unknown>): boolean {
  return (
    // OpenAI Responses: a conversation every turn appends to.
    (body.conversation !== undefined && body.conversation !== null) ||
    // OpenAI Responses: the answer is a handle to a job (`queued`) whose state moves on.
    body.background === true ||
    // OpenAI Responses: a stored prompt without a version is whatever version is latest.
    // (`/v1/completions` has a `prompt` too: a string or an array, the text itself.)
    (isObject(body.prompt) && (body.prompt.version === undefined || body.prompt.version === null)) ||
    // Anthropic Messages: a code execution container, reused by id (with what earlier turns
    // left in it) or set up with skills; the answer names files that live in it.
    (body.container !== undefined && body.container !== null) ||
    namesContainer(body.tools)
  );
}
