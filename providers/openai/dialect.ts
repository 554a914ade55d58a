/**
 * The OpenAI dialect of the `openai` provider's own route and of the unified endpoint: the
 * error shapes (`providers/translate/openai-dialect.ts`) plus, for the response cache, how
 * a whole stream ends and which of its headers change an answer.
 */
import { SseDecoder, type Dialect } from '../../core/index.js';
import { openaiDialect as openaiErrors } from '../translate/openai-dialect.js';
import { isOpenAIRefusal } from './refusal.js';

/**
 * Whether a captured OpenAI stream is a whole answer, by its last event:
 * - `data: [DONE]`, the terminator of Chat Completions and Completions streams (and of the
 *   unified endpoint's translators);
 * - a Responses API stream's `response.completed` (named, or a `data:` line whose `type`
 *   says so, from a compatible service that names no events). `response.incomplete` and
 *   `response.failed` are answers cut short: not stored.
 * An error chunk or `error` event anywhere makes it a failed answer, whatever follows: some
 * compatible servers report a failure mid-stream and still send `[DONE]`.
 */
export function isWholeOpenAIStream(sse: Uint8Array): boolean {
  let lastName = '';
  let lastData: string | undefined;
  let failed = false;
  const decoder = new SseDecoder((name, data) => {
    lastName = name;
    lastData = data;
    if (!failed && (name === 'error' || (data.includes('"error"') && isErrorChunk(data)))) failed = true;
  });
  decoder.push(sse);
  decoder.end();
  if (lastData === undefined || failed) return false;
  if (lastData === '[DONE]' || lastName === 'response.completed') return true;
  return lastName === 'message' && lastData.includes('"response.completed"') && responseType(lastData) === 'response.completed';
}

/** A chunk that reports a failure: `{"error": …}` (Chat Completions, and compatible servers such as vLLM, which then send `[DONE]`). */
function isErrorChunk(data: string): boolean {
  try {
    const chunk = JSON.parse(data) as { error?: unknown } | null;
    return typeof chunk === 'object' && chunk !== null && chunk.error !== undefined && chunk.error !== null;
  } catch {
    return false;
  }
}

function responseType(data: string): unknown {
  try {
    return (JSON.parse(data) as { type?: unknown } | null)?.type;
  } catch {
    return undefined;
  }
}

export const openaiDialect: Dialect = {
  ...openaiErrors,
  isWholeStream: isWholeOpenAIStream,
  isRefusal: isOpenAIRefusal,
  // Sent upstream as the client set it: a beta (`assistants=v2`, …) changes what answers.
  cacheKeyHeaders: ['openai-beta'],
};
