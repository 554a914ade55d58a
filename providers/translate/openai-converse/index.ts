/**
 * OpenAI Chat Completions ⇄ Bedrock Converse translators (pure; no I/O). `entry.ts` is
 * what a Bedrock provider's `chat()` calls; framing and signing stay in the provider.
 */
export { prepareConverseChat, eventFromMessage, translateConverseEvents, type ConverseChat, type ConverseChatAnswer, type ConverseChatOptions, type DecodedMessage } from './entry.js';
export { openAIToConverseRequest, type ConverseRequestOptions } from './request.js';
export { converseToOpenAIResponse, converseFinishReason, converseUsage, type ConverseResponseOptions, type ConverseTranslatedResponse } from './response.js';
export { ConverseToOpenAIStream, type ConverseStreamOptions } from './stream.js';
export { converseErrorToOpenAI, converseStreamErrorToOpenAI } from './error.js';
export type * from './converse-types.js';
