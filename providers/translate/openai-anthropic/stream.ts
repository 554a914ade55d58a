/**
 * Anthropic Messages SSE → OpenAI `chat.completion.chunk` SSE, one request at a time.
 * Bytes go in split anywhere; each complete upstream event is translated as soon as it is
 * decoded, so nothing is held back beyond one partial event (the SSE decoder's remainder).
 *
 * Event mapping:
 *   message_start              → first chunk: `{role: 'assistant', content: ''}`
 *   text_delta                 → `{content}`
 *   tool_use block start       → `{tool_calls: [{index, id, type, function: {name, arguments: ''}}]}`
 *   input_json_delta           → `{tool_calls: [{index, function: {arguments}}]}`
 *   message_delta              → remembers stop_reason and cumulative usage
 *   message_stop               → finish chunk, usage chunk (only with include_usage), `[DONE]`
 *   error                      → `data: {"error": {...}}` and nothing after it
 *   ping, thinking, server-tool blocks → nothing
 * Tool-call `index` counts tool blocks only (0, 1, …), as OpenAI clients index by it.
 */
import type { TokenUsage, UsageMeter } from '../../../core/types.js';
import { emptyUsage } from '../../../core/context.js';
import { flat } from '../../../core/flat-string.js';
import { SseDecoder } from '../../../core/stream/sse.js';
import { tokensOfBytes } from '../../../core/stream/estimated-usage.js';
import { utf8Bytes } from '../../../core/utf8-bytes.js';
import { applyAnthropicUsage, DELTA_ENVELOPE } from '../../anthropic/usage.js';
import type { AnthropicStopReason, AnthropicStreamEvent, AnthropicToolUseBlock } from './anthropic-types.js';
import { anthropicStreamErrorToOpenAI, openAIError } from './error.js';
import type { OpenAIChatCompletionChunk, OpenAIChunkChoice, OpenAIErrorBody } from './openai-types.js';
import { finishReason } from './response.js';
import { textDeltaJson, textDeltaSpans } from './text-delta.js';
import { openAIUsage } from './usage.js';

export { textDeltaJson };

export interface StreamTranslationOptions {
  /** The completion id every chunk carries. */
  readonly id: string;
  /** Unix seconds, the same on every chunk. */
  readonly created: number;
  /** The client's `stream_options.include_usage`: adds `usage: null` to chunks and a final usage chunk. */
  readonly includeUsage: boolean;
}

const DONE = 'data: [DONE]\n\n';

/**
 * A per-request translator. Feed it the upstream body with {@link write} and send what it
 * returns; call {@link end} once when the upstream body ends. Also a {@link UsageMeter}:
 * `usage` holds the counts seen so far (message_start, then cumulative message_delta).
 * @example
 * const t = new AnthropicToOpenAIStream({ id: 'chatcmpl-1', created: 1700000000, includeUsage: false });
 * for await (const chunk of upstream) client.write(t.write(chunk));
 * client.end(t.end());
 */
export class AnthropicToOpenAIStream implements UsageMeter {
  readonly usage: TokenUsage = emptyUsage();
  /** Set when the upstream stream carried an error or ended before `message_stop`. */
  streamError: string | undefined;
  /** The model the upstream says is answering (from message_start). */
  model: string | undefined;

  /** `message_delta` reported the output tokens: the counts are the stream's own, whole. */
  usageFinal = false;
  /** Characters of the answer's deltas (text as the upstream escaped it; tool input; thinking). */
  private answerText = 0;
  private readonly sse = new SseDecoder((event, data) => this.onEvent(event, data));
  private out: string[] = [];
  private started = false;
  private finished = false;
  private stopReason: AnthropicStopReason | null = null;
  /** Anthropic content-block index → OpenAI tool-call index. */
  private readonly toolIndex = new Map<number, number>();

  constructor(private readonly options: StreamTranslationOptions) {
    this.chunkEnd = `]${options.includeUsage ? ',"usage":null' : ''}}\n\n`;
    this.textChunkTail = `},"logprobs":null,"finish_reason":null}${this.chunkEnd}`;
    this.textChunkTailBytes = Buffer.from(this.textChunkTail, 'latin1');
  }

  /** What a stream cut before `message_delta` is charged (see core/stream/estimated-usage.ts). */
  get estimatedOutputTokens(): number {
    return tokensOfBytes(this.answerText);
  }

  /** Translate a chunk of upstream bytes; returns the bytes to send now (possibly empty). */
  write(chunk: Uint8Array): Uint8Array {
    if (this.finished) return this.flush();
    // Nothing held over from an earlier chunk: text deltas can be wrapped as bytes.
    if (this.sse.idle && this.out.length === 0) {
      const spans = textDeltaSpans(chunk);
      if (spans) return this.textChunks(chunk, spans);
    }
    this.sse.push(chunk);
    return this.flush();
  }

  /** One OpenAI chunk per text span of `chunk`: the bytes the string path makes for them. */
  private textChunks(chunk: Uint8Array, spans: readonly number[]): Uint8Array {
    const head = this.textChunkHeadBytes();
    const tail = this.textChunkTailBytes;
    let size = 0;
    for (let i = 0; i < spans.length; i += 2) {
      size += head.length + 1 + (spans[i + 1] - spans[i]) + 1 + tail.length;
      this.answerText += spans[i + 1] - spans[i];
    }
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (let i = 0; i < spans.length; i += 2) {
      out.set(head, at);
      at += head.length;
      // The literal with its quotes, as the upstream wrote it.
      out.set(chunk.subarray(spans[i] - 1, spans[i + 1] + 1), at);
      at += spans[i + 1] - spans[i] + 2;
      out.set(tail, at);
      at += tail.length;
    }
    return out;
  }

  /** The upstream body ended; returns any last bytes (an error chunk if it ended early). */
  end(): Uint8Array {
    if (!this.finished) this.sse.end();
    if (!this.finished) this.fail(openAIError('Upstream stream ended before the response was complete', 'server_error'));
    return this.flush();
  }

  private flush(): Uint8Array {
    if (this.out.length === 0) return new Uint8Array(0);
    // Measured, then copied as latin1 when all ASCII (most of a stream is): see utf8Bytes.
    const bytes = utf8Bytes(this.out.length === 1 ? this.out[0] : this.out.join(''));
    this.out = [];
    return bytes;
  }

  private onEvent(_event: string, data: string): void {
    if (this.finished) return;
    const content = textDeltaJson(data);
    if (content !== undefined) {
      this.answerText += content.length - 2; // the literal, without its quotes
      this.out.push(this.textChunkHead() + content + this.textChunkTail);
      return;
    }
    let ev: AnthropicStreamEvent;
    try {
      ev = JSON.parse(data) as AnthropicStreamEvent;
    } catch {
      return this.fail(openAIError('Upstream sent an unreadable stream event', 'server_error'));
    }
    // The data's `type` mirrors the SSE event name and is what Anthropic's own SDKs switch on.
    switch (ev.type) {
      case 'message_start':
        this.model = ev.message.model;
        applyAnthropicUsage(this.usage, ev.message.usage);
        this.started = true;
        return this.chunk({ role: 'assistant', content: '' });
      case 'content_block_start': {
        const block = ev.content_block;
        if (block.type === 'tool_use') {
          const use = block as AnthropicToolUseBlock;
          const index = this.toolIndex.size;
          this.toolIndex.set(ev.index, index);
          return this.chunk({ tool_calls: [{ index, id: use.id, type: 'function', function: { name: use.name, arguments: '' } }] });
        }
        if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') return this.chunk({ content: block.text });
        return;
      }
      case 'content_block_delta': {
        this.answerText += Math.max(0, data.length - DELTA_ENVELOPE);
        const d = ev.delta;
        if (d.type === 'text_delta' && typeof d.text === 'string') return this.chunk({ content: d.text });
        if (d.type === 'input_json_delta' && typeof d.partial_json === 'string' && d.partial_json !== '') {
          const index = this.toolIndex.get(ev.index);
          if (index !== undefined) this.chunk({ tool_calls: [{ index, function: { arguments: d.partial_json } }] });
        }
        return;
      }
      case 'message_delta':
        if (ev.delta?.stop_reason) this.stopReason = ev.delta.stop_reason;
        applyAnthropicUsage(this.usage, ev.usage);
        if (typeof ev.usage?.output_tokens === 'number') this.usageFinal = true;
        return;
      case 'message_stop':
        return this.finish();
      case 'error':
        // Keep Anthropic's own type for the audit line; the client gets OpenAI's.
        return this.fail(anthropicStreamErrorToOpenAI(ev), `${ev.error?.type ?? 'error'}: ${ev.error?.message ?? ''}`);
      default:
        return; // ping, content_block_stop, and event kinds added later
    }
  }

  /**
   * One chunk with one choice. Written as text around the serialized delta: the same bytes
   * as `JSON.stringify` of the whole chunk (id, object, created, model, choices, usage), but
   * the part every chunk of the stream shares is serialized once, not per event.
   */
  private chunk(delta: OpenAIChunkChoice['delta'], finish: OpenAIChunkChoice['finish_reason'] = null): void {
    this.push(JSON.stringify(delta), finish);
  }

  /** One chunk around a delta already serialized. */
  private push(deltaJson: string, finish: OpenAIChunkChoice['finish_reason']): void {
    this.out.push(`data: ${this.head()}{"index":0,"delta":${deltaJson},"logprobs":null,"finish_reason":${finish === null ? 'null' : JSON.stringify(finish)}}${this.chunkEnd}`);
  }

  /** A chunk without choices: the final usage chunk. */
  private emitUsage(usage: OpenAIChatCompletionChunk['usage']): void {
    this.out.push(`data: ${this.head()}],"usage":${JSON.stringify(usage)}}\n\n`);
  }

  private headText = '';
  private headModel: string | undefined = undefined;
  /** A text delta's chunk up to its content, flat (made with the head it extends). */
  private textHead = '';
  /** …and after it. */
  private readonly textChunkTail: string;
  private readonly textChunkTailBytes: Buffer;
  /** {@link textHead} encoded; dropped with it. */
  private textHeadBytes: Buffer | undefined = undefined;
  /** What closes every chunk with choices: `]`, the `"usage":null` include_usage asks for, `}`. */
  private readonly chunkEnd: string;

  /** {@link textChunkHead} encoded. */
  private textChunkHeadBytes(): Buffer {
    const head = this.textChunkHead();
    return (this.textHeadBytes ??= Buffer.from(head, 'utf8'));
  }

  /** `data: <head>{"index":0,"delta":{"content":`, for the text deltas most events are: the same bytes {@link push} writes around `{"content":…}`. */
  private textChunkHead(): string {
    const head = this.head(); // clears textHead when the model changed
    if (this.textHead === '') {
      this.textHead = flat(`data: ${head}{"index":0,"delta":{"content":`);
      this.textHeadBytes = undefined;
    }
    return this.textHead;
  }

  /** `{"id":…,"object":"chat.completion.chunk","created":…,"model":…,"choices":[`, made again only if the model changes. */
  private head(): string {
    const model = this.model ?? '';
    if (this.headText === '' || this.headModel !== model) {
      const { id, created } = this.options;
      this.headText = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${JSON.stringify(created)},"model":${JSON.stringify(model)},"choices":[`;
      this.headModel = model;
      this.textHead = '';
    }
    return this.headText;
  }

  private finish(): void {
    if (!this.started) return this.fail(openAIError('Upstream stream ended before it started', 'server_error'));
    this.chunk({}, finishReason(this.stopReason));
    if (this.options.includeUsage) this.emitUsage(openAIUsage(this.usage));
    this.out.push(DONE);
    this.finished = true;
  }

  private fail(body: OpenAIErrorBody, reason = `${body.error.type}: ${body.error.message}`): void {
    this.streamError = reason;
    this.out.push(`data: ${JSON.stringify(body)}\n\n`);
    this.finished = true;
  }
}
