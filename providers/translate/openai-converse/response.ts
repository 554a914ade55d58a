/**
 * Bedrock Converse answer → OpenAI `chat.completion`. Pure: id, timestamp and model (the
 * answer names none) come from the caller. Text blocks are concatenated; `toolUse` blocks
 * become `tool_calls` keeping Bedrock's ids (so a client's `tool` reply maps straight
 * back); reasoning and citation blocks have no Chat Completions field and are dropped.
 */
import type { TokenUsage } from '../../../core/types.js';
import { emptyUsage } from '../../../core/context.js';
import type { OpenAIChatCompletion, OpenAIFinishReason, OpenAIToolCall } from '../openai-anthropic/openai-types.js';
import { openAIUsage } from '../openai-anthropic/usage.js';
import type { ConverseResponse, ConverseStopReason, ConverseUsage } from './converse-types.js';

export interface ConverseResponseOptions {
  /** The completion id (`chatcmpl-…`) the client sees. */
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
  /** The model id the request named; Converse answers do not repeat it. */
  readonly model: string;
}

export interface ConverseTranslatedResponse {
  body: OpenAIChatCompletion;
  usage: TokenUsage;
}

const FINISH: Record<string, OpenAIFinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

/** OpenAI's `finish_reason` for a Converse `stopReason`; unknown reasons read as `stop`. */
export function converseFinishReason(stop: ConverseStopReason | undefined): OpenAIFinishReason {
  return (stop && FINISH[stop]) || 'stop';
}

/** Our counts for a Converse `usage` (cache reads and writes kept apart, as Bedrock reports them). */
export function converseUsage(wire: ConverseUsage | undefined): TokenUsage {
  const usage = emptyUsage();
  const n = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  usage.inputTokens = n(wire?.inputTokens);
  usage.outputTokens = n(wire?.outputTokens);
  usage.cacheReadTokens = n(wire?.cacheReadInputTokens);
  usage.cacheCreationTokens = n(wire?.cacheWriteInputTokens);
  return usage;
}

/**
 * Translate a non-streamed Converse answer.
 * @example
 * const { body, usage } = converseToOpenAIResponse(answer, { id: 'chatcmpl-1', created: 1700000000, model: 'anthropic.claude-3-haiku-20240307-v1:0' });
 */
export function converseToOpenAIResponse(answer: ConverseResponse, options: ConverseResponseOptions): ConverseTranslatedResponse {
  let text = '';
  let sawText = false;
  const toolCalls: OpenAIToolCall[] = [];
  for (const block of answer.output?.message?.content ?? []) {
    if (typeof block.text === 'string') {
      text += block.text;
      sawText = true;
    } else if (block.toolUse && typeof block.toolUse.name === 'string') {
      toolCalls.push({ id: block.toolUse.toolUseId, type: 'function', function: { name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) } });
    }
  }
  const usage = converseUsage(answer.usage);
  const body: OpenAIChatCompletion = {
    id: options.id,
    object: 'chat.completion',
    created: options.created,
    model: options.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: sawText || toolCalls.length === 0 ? text : null, refusal: null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
        logprobs: null,
        finish_reason: converseFinishReason(answer.stopReason),
      },
    ],
    usage: openAIUsage(usage),
  };
  return { body, usage };
}
