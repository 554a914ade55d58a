/** OpenAI Chat Completions ⇄ Gemini generateContent translators (pure; no I/O). */
export { openAIToGeminiRequest } from './request.js';
export { geminiToOpenAIResponse, geminiFinishReason, type GeminiResponseOptions, type GeminiTranslatedResponse, type GeminiToolCall } from './response.js';
export { GeminiToOpenAIStream, type GeminiStreamOptions } from './stream.js';
export { geminiErrorToOpenAI, geminiStreamErrorToOpenAI } from './error.js';
export type * from './gemini-types.js';
