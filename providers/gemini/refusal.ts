/**
 * Gemini's safety blocks: a prompt blocked (`promptFeedback.blockReason`) or a candidate
 * stopped by a safety, recitation, blocklist or PII check (the `finishReason`s the unified
 * endpoint reports as `content_filter`). For the response cache, which does not store one.
 */
import { anyAnswerObject, member, type AnswerObject } from '../../core/index.js';

const BLOCKED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']);
const HINTS = ['"blockReason"', ...[...BLOCKED].map((r) => `"${r}"`)];

function blocked(o: AnswerObject): boolean {
  const reason = member(o.promptFeedback, 'blockReason');
  if (reason !== undefined && reason !== null && reason !== 'BLOCK_REASON_UNSPECIFIED') return true;
  const candidates = o.candidates;
  return Array.isArray(candidates) && candidates.some((c) => BLOCKED.has(member(c, 'finishReason') as string));
}

export function isGeminiRefusal(body: Uint8Array, mode: 'json' | 'sse'): boolean {
  return anyAnswerObject(body, mode, HINTS, blocked);
}
