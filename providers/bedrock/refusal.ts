/**
 * Bedrock's safety blocks in a JSON answer: Converse's `stopReason` `guardrail_intervened`
 * or `content_filtered`, an InvokeModel body a guardrail stopped
 * (`amazon-bedrock-guardrailAction: INTERVENED`), Claude's own `stop_reason: "refusal"`,
 * Titan's `completionReason: CONTENT_FILTERED`. For the response cache, which does not
 * store one (nor any Bedrock event stream).
 */
import { anyAnswerObject, member, type AnswerObject } from '../../core/index.js';

const HINTS = ['guardrail_intervened', 'content_filtered', '"refusal"', 'INTERVENED', 'CONTENT_FILTERED'];

function blocked(o: AnswerObject): boolean {
  if (o.stopReason === 'guardrail_intervened' || o.stopReason === 'content_filtered') return true;
  if (o.stop_reason === 'refusal' || o['amazon-bedrock-guardrailAction'] === 'INTERVENED') return true;
  const results = o.results;
  return Array.isArray(results) && results.some((r) => member(r, 'completionReason') === 'CONTENT_FILTERED');
}

export function isBedrockRefusal(body: Uint8Array, mode: 'json' | 'sse'): boolean {
  return anyAnswerObject(body, mode, HINTS, blocked);
}
