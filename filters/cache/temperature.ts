/**
 * Whether a request asks for `temperature: 0`, read where its dialect says the API puts it
 * (`Dialect.temperaturePaths`: Gemini's `generationConfig`, Bedrock's Converse
 * `inferenceConfig` and InvokeModel bodies, a plugin's own place), at the top when it says
 * nothing. The body is the one the filter parsed already; only these members are read.
 */
import type { Dialect } from '../../core/index.js';

/** Anthropic's, OpenAI's, the unified endpoint's and any dialect that names no place. */
const TOP_LEVEL: readonly (readonly string[])[] = [['temperature']];

function at(body: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = body;
  for (const member of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[member];
  }
  return value;
}

/** True when the body sets a temperature where `dialect` reads one, and every one it sets is 0. */
export function asksTemperatureZero(dialect: Pick<Dialect, 'temperaturePaths'>, body: Record<string, unknown>): boolean {
  let zero = false;
  for (const path of dialect.temperaturePaths ?? TOP_LEVEL) {
    const t = at(body, path);
    if (t === undefined) continue;
    if (t !== 0) return false;
    zero = true;
  }
  return zero;
}
