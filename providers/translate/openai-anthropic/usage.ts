/**
 * Token usage in both shapes. OpenAI counts cached prompt tokens inside `prompt_tokens`
 * (and names the cache reads in `prompt_tokens_details.cached_tokens`); Anthropic reports
 * `input_tokens` without either cache count, so both cache counts are added back.
 */
import type { TokenUsage } from '../../../core/types.js';
import type { OpenAIUsage } from './openai-types.js';

/** OpenAI's usage object for our {@link TokenUsage}. */
export function openAIUsage(usage: TokenUsage): OpenAIUsage {
  const prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheCreationTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens },
  };
}
