/** OpenAI Chat Completions ⇄ Anthropic Messages translators (pure; no I/O). */
export { openAIToAnthropicRequest, type RequestTranslationOptions } from './request.js';
export { anthropicToOpenAIResponse, finishReason, type ResponseTranslationOptions, type TranslatedResponse } from './response.js';
export { AnthropicToOpenAIStream, type StreamTranslationOptions } from './stream.js';
export { anthropicErrorToOpenAI, anthropicStreamErrorToOpenAI, openAIError, type TranslatedError } from './error.js';
export { openAIUsage } from './usage.js';
export type * from './openai-types.js';
export type * from './anthropic-types.js';
