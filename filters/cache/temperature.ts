/**
 * Whether a request asks for `temperature: 0`, read where its dialect puts it: at the top
 * (Anthropic, OpenAI, the unified endpoint, plugins'), in Gemini's `generationConfig`, in
 * Bedrock's Converse `inferenceConfig` or, for InvokeModel, the model's own body (at the top
 * for Claude, Llama or Mistral; Titan's `textGenerationConfig`; Nova's `inferenceConfig`).
 * The body is the one the filter parsed already; only these members are read.
 */

type Place = readonly [string] | readonly [string, string];

const TOP: readonly Place[] = [['temperature']];

/** One table, by dialect name; a dialect not named keeps it at the top. */
const PLACES: Readonly<Record<string, readonly Place[]>> = {
  gemini: [['generationConfig', 'temperature']],
  bedrock: [['temperature'], ['inferenceConfig', 'temperature'], ['textGenerationConfig', 'temperature']],
};

function at(body: Record<string, unknown>, place: Place): unknown {
  const first = body[place[0]];
  if (place.length === 1) return first;
  return typeof first === 'object' && first !== null && !Array.isArray(first) ? (first as Record<string, unknown>)[place[1]] : undefined;
}

/** True when the body sets a temperature where `dialect` reads one, and every one it sets is 0. */
export function asksTemperatureZero(dialect: string, body: Record<string, unknown>): boolean {
  const places = Object.hasOwn(PLACES, dialect) ? PLACES[dialect] : TOP;
  let zero = false;
  for (const place of places) {
    const t = at(body, place);
    if (t === undefined) continue;
    if (t !== 0) return false;
    zero = true;
  }
  return zero;
}
