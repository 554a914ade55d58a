/**
 * Decoded ConverseStream events → OpenAI `chat.completion.chunk` SSE bytes, one request at
 * a time. The framing (AWS event stream, `@smithy/eventstream-codec`) is the Bedrock
 * provider's job; this consumes the decoded event objects (see {@link eventFromMessage})
 * and answers each at once, holding nothing back.
 *
 * Event mapping:
 *   messageStart                    → first chunk: `{role: 'assistant', content: ''}`
 *   contentBlockDelta text          → `{content}`
 *   contentBlockStart toolUse       → `{tool_calls: [{index, id, type, function: {name, arguments: ''}}]}`
 *   contentBlockDelta toolUse.input → `{tool_calls: [{index, function: {arguments}}]}`
 *   messageStop                     → finish chunk
 *   metadata (after messageStop)    → usage chunk (only with include_usage), `[DONE]`
 *   an exception event              → `data: {"error": {...}}` and nothing after it
 *   reasoning deltas, contentBlockStop, unknown events → nothing
 * Tool-call `index` counts tool blocks only (0, 1, …), as OpenAI clients index by it.
 */
import type { TokenUsage, UsageMeter } from '../../../core/types.js';
import { emptyUsage } from '../../../core/context.js';
import { SourceMeter } from '../../../core/stream/generated-body.js';
import { tokensOfBytes } from '../../../core/stream/estimated-usage.js';
import { openAIError } from '../openai-anthropic/error.js';
import type { OpenAIChatCompletionChunk, OpenAIChunkChoice, OpenAIErrorBody } from '../openai-anthropic/openai-types.js';
import { openAIUsage } from '../openai-anthropic/usage.js';
import type { ConverseStopReason, ConverseStreamEvent } from './converse-types.js';
import { converseStreamErrorToOpenAI } from './error.js';
import { converseFinishReason, converseUsage } from './response.js';

export interface ConverseStreamOptions {
  /** The completion id every chunk carries. */
  readonly id: string;
  /** Unix seconds, the same on every chunk. */
  readonly created: number;
  /** The model id the request named (ConverseStream does not repeat it). */
  readonly model: string;
  /** The client's `stream_options.include_usage`: adds `usage: null` to chunks and a final usage chunk. */
  readonly includeUsage: boolean;
}

const EXCEPTIONS = new Set(['internalServerException', 'modelStreamErrorException', 'validationException', 'throttlingException', 'serviceUnavailableException']);
const EMPTY = new Uint8Array(0);

/**
 * A per-request translator. Feed it each decoded event with {@link push} and send what it
 * returns; call {@link end} once when the event stream ends. {@link meter} is its usage
 * meter for core (which would feed it the translated bytes; the view ignores them).
 * @example
 * const t = new ConverseToOpenAIStream({ id: 'chatcmpl-1', created: 1700000000, model: modelId, includeUsage: false });
 * for await (const event of events) client.write(t.push(event));
 * client.end(t.end());
 */
export class ConverseToOpenAIStream {
  usage: TokenUsage = emptyUsage();
  streamError: string | undefined;
  readonly model: string;

  private readonly encoder = new TextEncoder();
  private out: string[] = [];
  private started = false;
  private stopReason: ConverseStopReason | undefined;
  private gotMetadata = false;
  /** Characters of the answer's deltas so far. */
  private answerText = 0;
  private closed = false;
  /** Converse content-block index → OpenAI tool-call index. */
  private readonly toolIndex = new Map<number, number>();

  constructor(private readonly options: ConverseStreamOptions) {
    this.model = options.model;
  }

  /** The `metadata` event reported the counts. */
  get usageFinal(): boolean {
    return this.gotMetadata;
  }

  /** What a stream cut before its `metadata` is charged (see core/stream/estimated-usage.ts). */
  get estimatedOutputTokens(): number {
    return tokensOfBytes(this.answerText);
  }

  /** The usage meter to hand core beside the translated body. */
  meter(): UsageMeter {
    return new SourceMeter(this);
  }

  /** Translate one decoded event; returns the bytes to send now (possibly empty). */
  push(event: ConverseStreamEvent): Uint8Array {
    if (!this.closed) this.onEvent(event);
    return this.flush();
  }

  /** The event stream ended: an error chunk if the answer was not finished. */
  end(): Uint8Array {
    if (!this.closed) {
      if (this.stopReason === undefined) this.fail(openAIError('Upstream stream ended before the response was complete', 'server_error'));
      else {
        // The answer is whole but its usage never came: the client gets [DONE], accounting the reason.
        this.streamError = 'Upstream stream ended without its metadata event (usage unknown)';
        this.done();
      }
    }
    return this.flush();
  }

  private flush(): Uint8Array {
    if (this.out.length === 0) return EMPTY;
    const bytes = this.encoder.encode(this.out.join(''));
    this.out = [];
    return bytes;
  }

  private onEvent(event: ConverseStreamEvent): void {
    if (event === null || typeof event !== 'object') return this.fail(openAIError('Upstream sent an unreadable stream event', 'server_error'));
    const [name, payload] = (Object.entries(event)[0] ?? []) as [string | undefined, Record<string, unknown> | undefined];
    if (name === undefined) return;
    if (EXCEPTIONS.has(name)) {
      const message = (payload as { message?: string } | undefined)?.message;
      return this.fail(converseStreamErrorToOpenAI(name, payload as { message?: string }), `${name}: ${message ?? ''}`);
    }
    const e = event as Extract<ConverseStreamEvent, Record<typeof name, unknown>>;
    if ('messageStart' in e) {
      this.started = true;
      return this.chunk({ role: 'assistant', content: '' });
    }
    if ('contentBlockStart' in e) {
      const use = e.contentBlockStart.start?.toolUse;
      if (!use) return;
      const index = this.toolIndex.size;
      this.toolIndex.set(e.contentBlockStart.contentBlockIndex, index);
      return this.chunk({ tool_calls: [{ index, id: use.toolUseId, type: 'function', function: { name: use.name, arguments: '' } }] });
    }
    if ('contentBlockDelta' in e) {
      const d = e.contentBlockDelta.delta;
      const text = d?.text ?? d?.toolUse?.input ?? d?.reasoningContent?.text;
      if (typeof text === 'string') this.answerText += text.length;
      if (typeof d?.text === 'string' && d.text !== '') return this.chunk({ content: d.text });
      if (typeof d?.toolUse?.input === 'string' && d.toolUse.input !== '') {
        const index = this.toolIndex.get(e.contentBlockDelta.contentBlockIndex);
        if (index !== undefined) this.chunk({ tool_calls: [{ index, function: { arguments: d.toolUse.input } }] });
      }
      return;
    }
    if ('messageStop' in e) {
      if (!this.started) return this.fail(openAIError('Upstream stream ended before it started', 'server_error'));
      this.stopReason = e.messageStop.stopReason ?? 'end_turn';
      this.chunk({}, converseFinishReason(this.stopReason));
      if (this.gotMetadata) this.done();
      return;
    }
    if ('metadata' in e) {
      this.usage = converseUsage(e.metadata.usage);
      this.gotMetadata = true;
      if (this.stopReason !== undefined) this.done();
    }
  }

  private chunk(delta: OpenAIChunkChoice['delta'], finish: OpenAIChunkChoice['finish_reason'] = null): void {
    this.emit([{ index: 0, delta, logprobs: null, finish_reason: finish }], this.options.includeUsage ? null : undefined);
  }

  private emit(choices: OpenAIChunkChoice[], usage: OpenAIChatCompletionChunk['usage']): void {
    const chunk: OpenAIChatCompletionChunk = { id: this.options.id, object: 'chat.completion.chunk', created: this.options.created, model: this.model, choices };
    if (usage !== undefined) chunk.usage = usage;
    this.out.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  private done(): void {
    if (this.options.includeUsage) this.emit([], openAIUsage(this.usage));
    this.out.push('data: [DONE]\n\n');
    this.closed = true;
  }

  private fail(body: OpenAIErrorBody, reason = `${body.error.type}: ${body.error.message}`): void {
    this.streamError = reason;
    this.out.push(`data: ${JSON.stringify(body)}\n\n`);
    this.closed = true;
  }
}
