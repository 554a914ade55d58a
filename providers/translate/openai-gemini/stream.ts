/**
 * Gemini `alt=sse` stream → OpenAI `chat.completion.chunk` SSE, one request at a time.
 * Bytes go in split anywhere; each complete `data:` chunk is translated as soon as it is
 * decoded, so nothing is held back beyond one partial event.
 *
 * Chunk mapping (each Gemini chunk is a whole `GenerateContentResponse`):
 *   first chunk                → `{role: 'assistant', content: ''}`
 *   text part                  → `{content}` (thinking parts: nothing)
 *   functionCall part          → `{tool_calls: [{index, id, type, function: {name, arguments}}]}`,
 *                                arguments whole (Gemini sends each call in one piece)
 *   finishReason               → finish chunk
 *   usageMetadata              → remembered, each count at its largest (running totals a chunk may leave out)
 *   `{"error": …}`             → `data: {"error": …}` and nothing after it
 *   upstream end               → usage chunk (only with include_usage) and `[DONE]`, or,
 *                                without a finishReason, an error chunk: never a silent cut
 */
import type { TokenUsage, UsageMeter } from '../../../core/types.js';
import { SseDecoder } from '../../../core/stream/sse.js';
import { GeminiChunkReader } from '../../gemini/usage.js';
import { openAIError } from '../openai-anthropic/error.js';
import type { OpenAIChatCompletionChunk, OpenAIChunkChoice, OpenAIErrorBody, OpenAIFinishReason, OpenAIToolCallDelta } from '../openai-anthropic/openai-types.js';
import { openAIUsage } from '../openai-anthropic/usage.js';
import { geminiStreamErrorToOpenAI } from './error.js';
import type { GeminiErrorBody, GeminiResponse } from './gemini-types.js';
import { answerText, geminiFinishReason, toolCallId, toolCallOf } from './response.js';

export interface GeminiStreamOptions {
  /** The completion id every chunk carries. */
  readonly id: string;
  /** Unix seconds, the same on every chunk. */
  readonly created: number;
  /** The model asked for, shown until the stream names its `modelVersion`. */
  readonly model: string;
  /** The client's `stream_options.include_usage`: adds `usage: null` to chunks and a final usage chunk. */
  readonly includeUsage: boolean;
}

type ToolDelta = OpenAIToolCallDelta & { extra_content?: { google: { thought_signature: string } } };

/**
 * A per-request translator. Feed it the upstream body with {@link write} and send what it
 * returns; call {@link end} once when the upstream body ends. Also a {@link UsageMeter}.
 * @example
 * const t = new GeminiToOpenAIStream({ id: 'chatcmpl-1', created: 1700000000, model: 'gemini-2.5-flash', includeUsage: false });
 * for await (const chunk of upstream) client.write(t.write(chunk));
 * client.end(t.end());
 */
export class GeminiToOpenAIStream implements UsageMeter {
  /** Usage, its end and the answer's length, as the pass-through meter reads them. */
  private readonly reading = new GeminiChunkReader();
  /** Set when the upstream stream carried an error or ended before a finishReason. */
  streamError: string | undefined;
  /** The model the upstream says is answering (`modelVersion`). */
  model: string | undefined;

  private readonly sse = new SseDecoder((_event, data) => this.onData(data));
  private readonly encoder = new TextEncoder();
  private out: string[] = [];
  private started = false;
  /** The finish chunk went out; only usage and `[DONE]` remain. */
  private finishedReason: OpenAIFinishReason | undefined;
  /** Nothing more goes out (an error was sent, or `[DONE]`). */
  private closed = false;
  private tools = 0;

  constructor(private readonly options: GeminiStreamOptions) {}

  get usage(): TokenUsage {
    return this.reading.usage;
  }

  /** The counts came with or after the finish chunk. */
  get usageFinal(): boolean {
    return this.reading.usageFinal;
  }

  /** What a stream cut before its last counts is charged (see core/stream/estimated-usage.ts). */
  get estimatedOutputTokens(): number {
    return this.reading.estimatedOutputTokens;
  }

  /** Translate a chunk of upstream bytes; returns the bytes to send now (possibly empty). */
  write(chunk: Uint8Array): Uint8Array {
    if (!this.closed) this.sse.push(chunk);
    return this.flush();
  }

  /** The upstream body ended: usage and `[DONE]`, or an error chunk when it ended early. */
  end(): Uint8Array {
    if (!this.closed) this.sse.end();
    if (!this.closed) {
      if (this.finishedReason === undefined) {
        this.fail(openAIError('Upstream stream ended before the response was complete', 'server_error'));
      } else {
        if (this.options.includeUsage) this.emit([], openAIUsage(this.usage));
        this.out.push('data: [DONE]\n\n');
        this.closed = true;
      }
    }
    return this.flush();
  }

  private flush(): Uint8Array {
    if (this.out.length === 0) return new Uint8Array(0);
    const bytes = this.encoder.encode(this.out.join(''));
    this.out = [];
    return bytes;
  }

  private onData(data: string): void {
    if (this.closed) return;
    let chunk: GeminiResponse & Partial<GeminiErrorBody>;
    try {
      chunk = JSON.parse(data) as GeminiResponse & Partial<GeminiErrorBody>;
    } catch {
      return this.fail(openAIError('Upstream sent an unreadable stream event', 'server_error'));
    }
    if (chunk === null || typeof chunk !== 'object') return this.fail(openAIError('Upstream sent an unreadable stream event', 'server_error'));
    if (chunk.error) return this.fail(geminiStreamErrorToOpenAI(chunk), `${chunk.error.status ?? 'error'}: ${chunk.error.message ?? ''}`);
    this.reading.read(chunk);
    if (chunk.modelVersion) this.model ??= chunk.modelVersion;
    if (this.finishedReason !== undefined) return; // a trailing usage-only chunk
    if (!this.started) {
      this.started = true;
      this.chunk({ role: 'assistant', content: '' });
    }
    const candidate = chunk.candidates?.[0];
    for (const part of candidate?.content?.parts ?? []) {
      const text = answerText(part);
      if (text !== undefined && text !== '') this.chunk({ content: text });
      else if (part.functionCall) {
        const index = this.tools++;
        const call = toolCallOf(part, toolCallId(this.options.id, index, part.functionCall.id));
        const delta: ToolDelta = { index, id: call.id, type: 'function', function: call.function };
        if (call.extra_content) delta.extra_content = call.extra_content;
        this.chunk({ tool_calls: [delta] });
      }
    }
    if (candidate?.finishReason) this.finish(geminiFinishReason(candidate.finishReason, this.tools > 0));
    else if (!candidate && chunk.promptFeedback?.blockReason) this.finish('content_filter');
  }

  private chunk(delta: OpenAIChunkChoice['delta'], finish: OpenAIChunkChoice['finish_reason'] = null): void {
    this.emit([{ index: 0, delta, logprobs: null, finish_reason: finish }], this.options.includeUsage ? null : undefined);
  }

  private emit(choices: OpenAIChunkChoice[], usage: OpenAIChatCompletionChunk['usage']): void {
    const chunk: OpenAIChatCompletionChunk = {
      id: this.options.id,
      object: 'chat.completion.chunk',
      created: this.options.created,
      model: this.model ?? this.options.model,
      choices,
    };
    if (usage !== undefined) chunk.usage = usage;
    this.out.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  private finish(reason: OpenAIFinishReason): void {
    this.chunk({}, reason);
    this.finishedReason = reason;
  }

  private fail(body: OpenAIErrorBody, reason = `${body.error.type}: ${body.error.message}`): void {
    this.streamError = reason;
    this.out.push(`data: ${JSON.stringify(body)}\n\n`);
    this.closed = true;
  }
}
