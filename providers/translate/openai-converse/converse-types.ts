/**
 * Amazon Bedrock Converse / ConverseStream wire models: only the fields the translators
 * read or write. Request types are what we send (exact); response and stream types are
 * what we read (tolerant: unknown block and event kinds exist and are skipped).
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */

export interface ConverseTextBlock {
  text: string;
}

export interface ConverseImageBlock {
  /** `bytes` is base64 in the JSON REST API. */
  image: { format: 'png' | 'jpeg' | 'gif' | 'webp'; source: { bytes: string } };
}

export interface ConverseToolUseBlock {
  toolUse: { toolUseId: string; name: string; input: unknown };
}

export interface ConverseToolResultBlock {
  toolResult: { toolUseId: string; content: Array<{ text: string }>; status?: 'success' | 'error' };
}

export type ConverseRequestBlock = ConverseTextBlock | ConverseImageBlock | ConverseToolUseBlock | ConverseToolResultBlock;

export interface ConverseMessage {
  role: 'user' | 'assistant';
  content: ConverseRequestBlock[];
}

export interface ConverseTool {
  toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> } };
}

export type ConverseToolChoice = { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };

/** A `POST /model/{modelId}/converse` (or `/converse-stream`) body as the translator builds it; the model is in the path. */
export interface ConverseRequest {
  messages: ConverseMessage[];
  system?: Array<{ text: string }>;
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: { tools: ConverseTool[]; toolChoice?: ConverseToolChoice };
}

/** `inputTokens` excludes the cache reads and writes, which are counted apart. */
export interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export type ConverseStopReason =
  | 'end_turn'
  | 'tool_use'
  | 'max_tokens'
  | 'stop_sequence'
  | 'guardrail_intervened'
  | 'content_filtered'
  | 'model_context_window_exceeded'
  | (string & {});

/** A response content block; kinds other than text and toolUse (reasoningContent, citations) are skipped. */
export type ConverseResponseBlock = Partial<ConverseTextBlock & ConverseToolUseBlock> & Record<string, unknown>;

/** A non-streamed Converse answer. */
export interface ConverseResponse {
  output?: { message?: { role?: string; content?: ConverseResponseBlock[] } };
  stopReason?: ConverseStopReason;
  usage?: ConverseUsage;
  metrics?: { latencyMs?: number };
}

/** Bedrock's exception names as they appear in a stream (camel case) and in `x-amzn-ErrorType`. */
export type ConverseStreamExceptionName =
  | 'internalServerException'
  | 'modelStreamErrorException'
  | 'validationException'
  | 'throttlingException'
  | 'serviceUnavailableException';

/**
 * One decoded ConverseStream event: an object with a single member named after the
 * frame's `:event-type` (or `:exception-type`), holding the frame's JSON payload — the
 * shape of the AWS SDK's `ConverseStreamOutput`. See {@link eventFromMessage}.
 */
export type ConverseStreamEvent =
  | { messageStart: { role: string } }
  | { contentBlockStart: { contentBlockIndex: number; start?: { toolUse?: { toolUseId: string; name: string } } } }
  | {
      contentBlockDelta: {
        contentBlockIndex: number;
        delta: { text?: string; toolUse?: { input: string }; reasoningContent?: Record<string, unknown> };
      };
    }
  | { contentBlockStop: { contentBlockIndex: number } }
  | { messageStop: { stopReason: ConverseStopReason; additionalModelResponseFields?: unknown } }
  | { metadata: { usage?: ConverseUsage; metrics?: { latencyMs?: number } } }
  | { [K in ConverseStreamExceptionName]?: { message?: string; originalStatusCode?: number; originalMessage?: string } };
