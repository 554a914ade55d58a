/**
 * OpenAI Chat Completions wire models: only the fields the translators read or write.
 * Request types are what a client may send (loosely typed where clients vary);
 * response types are what we emit (exact).
 * https://platform.openai.com/docs/api-reference/chat
 */

export interface OpenAITextPart {
  type: 'text';
  text: string;
}

export interface OpenAIImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

export interface OpenAIRefusalPart {
  type: 'refusal';
  refusal: string;
}

/** Any content part; unknown kinds (`input_audio`, `file`) are refused by the translator. */
export type OpenAIContentPart = OpenAITextPart | OpenAIImagePart | OpenAIRefusalPart | { type: string; [field: string]: unknown };

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAISystemMessage {
  role: 'system' | 'developer';
  content: string | OpenAIContentPart[];
  name?: string;
}

export interface OpenAIUserMessage {
  role: 'user';
  content: string | OpenAIContentPart[];
  name?: string;
}

export interface OpenAIAssistantMessage {
  role: 'assistant';
  content?: string | OpenAIContentPart[] | null;
  tool_calls?: OpenAIToolCall[] | null;
  refusal?: string | null;
  name?: string;
}

export interface OpenAIToolMessage {
  role: 'tool';
  content: string | OpenAIContentPart[];
  tool_call_id: string;
}

export type OpenAIMessage = OpenAISystemMessage | OpenAIUserMessage | OpenAIAssistantMessage | OpenAIToolMessage;

export interface OpenAIFunctionTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
}

export type OpenAIToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export type OpenAIResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean | null } };

/** A `POST /v1/chat/completions` body. Fields we do not model are kept in the index signature. */
export interface OpenAIChatRequest {
  model: string;
  messages: OpenAIMessage[];
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  tools?: OpenAIFunctionTool[] | null;
  tool_choice?: OpenAIToolChoice | null;
  parallel_tool_calls?: boolean | null;
  response_format?: OpenAIResponseFormat | null;
  user?: string | null;
  n?: number | null;
  [field: string]: unknown;
}

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** `cached_tokens` is the part of `prompt_tokens` read from the prompt cache. */
  prompt_tokens_details: { cached_tokens: number };
}

/** A non-streamed `chat.completion` object. */
export interface OpenAIChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: OpenAIToolCall[] };
    logprobs: null;
    finish_reason: OpenAIFinishReason;
  }>;
  usage: OpenAIUsage;
}

/** One `tool_calls` entry of a streamed delta: `id`, `type` and `name` only on its first delta. */
export interface OpenAIToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

export interface OpenAIChunkChoice {
  index: number;
  delta: { role?: 'assistant'; content?: string; tool_calls?: OpenAIToolCallDelta[] };
  logprobs: null;
  finish_reason: OpenAIFinishReason | null;
}

/** A streamed `chat.completion.chunk`. `usage` is present (null until the last chunk) only with `include_usage`. */
export interface OpenAIChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: OpenAIChunkChoice[];
  usage?: OpenAIUsage | null;
}

/** OpenAI's error object; the `openai` SDKs pick the exception class from the HTTP status. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
