/**
 * OpenAI's content filter verdicts: a Chat Completions or Completions choice (or stream
 * chunk) with `finish_reason: "content_filter"` (also what the unified endpoint's
 * translators report for another provider's refusal or safety block), a Responses answer
 * `incomplete` for `content_filter`. For the response cache, which does not store one.
 */
import { anyAnswerObject, member, type AnswerObject } from '../../core/index.js';

const HINTS = ['"content_filter"'];

function filtered(o: AnswerObject): boolean {
  const choices = o.choices;
  if (Array.isArray(choices) && choices.some((c) => member(c, 'finish_reason') === 'content_filter')) return true;
  // A Responses answer, or a stream event carrying one.
  const response = o.object === 'response' ? o : o.response;
  return member(member(response, 'incomplete_details'), 'reason') === 'content_filter';
}

export function isOpenAIRefusal(body: Uint8Array, mode: 'json' | 'sse'): boolean {
  return anyAnswerObject(body, mode, HINTS, filtered);
}
