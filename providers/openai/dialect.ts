/**
 * The OpenAI dialect of the `openai` provider's own route and of the unified endpoint: the
 * error shapes (`providers/translate/openai-dialect.ts`) plus, for the response cache, how
 * a whole stream ends and which of its headers change an answer.
 */
import { SseDecoder, type Dialect } from '../../core/index.js';
import { openaiDialect as openaiErrors } from '../translate/openai-dialect.js';

/**
 * The last event's data is `[DONE]`, the terminator OpenAI sends after the final chunk of
 * Chat Completions and Completions streams (and the unified endpoint's translators after
 * theirs).
 */
export function endsWithDone(sse: Uint8Array): boolean {
  let last: string | undefined;
  const decoder = new SseDecoder((_name, data) => (last = data));
  decoder.push(sse);
  decoder.end();
  return last === '[DONE]';
}

export const openaiDialect: Dialect = {
  ...openaiErrors,
  isWholeStream: endsWithDone,
  // Sent upstream as the client set it: a beta (`assistants=v2`, …) changes what answers.
  cacheKeyHeaders: ['openai-beta'],
};
