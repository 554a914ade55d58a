/**
 * Gemini `generateContent` answer → OpenAI `chat.completion`. Pure: id and timestamp come
 * from the caller. The first candidate's text parts are concatenated (thinking parts are
 * dropped: Chat Completions has no field for them); `functionCall` parts become
 * `tool_calls` with ids made from the completion id (Gemini's own `id` when it sends one),
 * carrying any `thoughtSignature` in `extra_content.google`, as Google's OpenAI-compatible
 * endpoint does, so a client sending the message back keeps it.
 */
import type { TokenUsage } from '../../../core/types.js';
import { geminiUsage } from '../../gemini/usage.js';
import type { OpenAIChatCompletion, OpenAIFinishReason, OpenAIToolCall } from '../openai-anthropic/openai-types.js';
import { openAIUsage } from '../openai-anthropic/usage.js';
import type { GeminiCandidate, GeminiFinishReason, GeminiPart, GeminiResponse } from './gemini-types.js';

export interface GeminiResponseOptions {
  /** The completion id (`chatcmpl-…`) the client sees. */
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
  /** The model asked for, shown when the answer names none (`modelVersion`). */
  readonly model: string;
}

export interface GeminiTranslatedResponse {
  body: OpenAIChatCompletion;
  /** Exact counts for the gateway's accounting. */
  usage: TokenUsage;
}

/** A tool call as the translator emits it: OpenAI's, plus the signature Gemini needs back. */
export type GeminiToolCall = OpenAIToolCall & { extra_content?: { google: { thought_signature: string } } };

const FINISH: Record<string, OpenAIFinishReason> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  IMAGE_SAFETY: 'content_filter',
};

/** OpenAI's `finish_reason` for a Gemini `finishReason`; function calls make it `tool_calls`; unknown reasons read as `stop`. */
export function geminiFinishReason(reason: GeminiFinishReason | undefined, calledTools: boolean): OpenAIFinishReason {
  const mapped = (reason && FINISH[reason]) || 'stop';
  return mapped === 'stop' && calledTools ? 'tool_calls' : mapped;
}

/** The id of tool call `index` of a completion: Gemini's own when it sent one. */
export function toolCallId(completionId: string, index: number, own: string | undefined): string {
  return own || `call_${completionId.replace(/^chatcmpl-/, '')}_${index}`;
}

/** One `functionCall` part as an OpenAI tool call. */
export function toolCallOf(part: GeminiPart, id: string): GeminiToolCall {
  const call: GeminiToolCall = { id, type: 'function', function: { name: part.functionCall!.name, arguments: JSON.stringify(part.functionCall!.args ?? {}) } };
  if (part.thoughtSignature) call.extra_content = { google: { thought_signature: part.thoughtSignature } };
  return call;
}

/** A part that is answer text (not a thinking summary). */
export function answerText(part: GeminiPart): string | undefined {
  return typeof part.text === 'string' && part.thought !== true ? part.text : undefined;
}

/**
 * Translate a non-streamed Gemini answer.
 * @example
 * const { body, usage } = geminiToOpenAIResponse(answer, { id: 'chatcmpl-1', created: 1700000000, model: 'gemini-2.5-flash' });
 */
export function geminiToOpenAIResponse(answer: GeminiResponse, options: GeminiResponseOptions): GeminiTranslatedResponse {
  const candidate: GeminiCandidate | undefined = answer.candidates?.[0];
  let text = '';
  let sawText = false;
  const toolCalls: GeminiToolCall[] = [];
  for (const part of candidate?.content?.parts ?? []) {
    const t = answerText(part);
    if (t !== undefined) {
      text += t;
      sawText = true;
    } else if (part.functionCall) {
      toolCalls.push(toolCallOf(part, toolCallId(options.id, toolCalls.length, part.functionCall.id)));
    }
  }
  // A prompt blocked before any candidate is a content filter stop with no content.
  const finish = candidate ? geminiFinishReason(candidate.finishReason, toolCalls.length > 0) : answer.promptFeedback?.blockReason ? 'content_filter' : 'stop';
  const usage = geminiUsage(answer.usageMetadata);
  const body: OpenAIChatCompletion = {
    id: options.id,
    object: 'chat.completion',
    created: options.created,
    model: answer.modelVersion ?? options.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: sawText || toolCalls.length === 0 ? text : null,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finish,
      },
    ],
    usage: openAIUsage(usage),
  };
  return { body, usage };
}
