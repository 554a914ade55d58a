/**
 * Anthropic Messages response → OpenAI `chat.completion`. Pure: the id and timestamp come
 * from the caller. Text blocks are concatenated; `tool_use` blocks become `tool_calls`
 * keeping Anthropic's ids (so a client's `tool` reply maps straight back); thinking and
 * server-tool blocks have no Chat Completions field and are dropped.
 */
import type { TokenUsage } from '../../../core/types.js';
import { emptyUsage } from '../../../core/context.js';
import { applyAnthropicUsage } from '../../anthropic/usage.js';
import type { AnthropicMessage, AnthropicStopReason, AnthropicToolUseBlock } from './anthropic-types.js';
import type { OpenAIChatCompletion, OpenAIFinishReason, OpenAIToolCall } from './openai-types.js';
import { openAIUsage } from './usage.js';

export interface ResponseTranslationOptions {
  /** The completion id (`chatcmpl-…`) the client sees. */
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
}

export interface TranslatedResponse {
  body: OpenAIChatCompletion;
  /** Exact counts for the gateway's accounting, cache tokens kept apart. */
  usage: TokenUsage;
}

const FINISH: Record<string, OpenAIFinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** OpenAI's `finish_reason` for an Anthropic `stop_reason`; unknown reasons read as `stop`. */
export function finishReason(stop: AnthropicStopReason | null | undefined): OpenAIFinishReason {
  return (stop && FINISH[stop]) || 'stop';
}

/**
 * Translate a non-streamed Anthropic message.
 * @example
 * const { body, usage } = anthropicToOpenAIResponse(message, { id: 'chatcmpl-1', created: 1700000000 });
 */
export function anthropicToOpenAIResponse(message: AnthropicMessage, options: ResponseTranslationOptions): TranslatedResponse {
  let text = '';
  let sawText = false;
  const toolCalls: OpenAIToolCall[] = [];
  for (const block of message.content ?? []) {
    if (block.type === 'text' && typeof block.text === 'string') {
      text += block.text;
      sawText = true;
    } else if (block.type === 'tool_use') {
      const use = block as AnthropicToolUseBlock;
      toolCalls.push({ id: use.id, type: 'function', function: { name: use.name, arguments: JSON.stringify(use.input ?? {}) } });
    }
  }
  const usage = emptyUsage();
  applyAnthropicUsage(usage, message.usage);
  const body: OpenAIChatCompletion = {
    id: options.id,
    object: 'chat.completion',
    created: options.created,
    model: message.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI sends null content beside tool calls when there is no text.
          content: sawText || toolCalls.length === 0 ? text : null,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(message.stop_reason),
      },
    ],
    usage: openAIUsage(usage),
  };
  return { body, usage };
}
