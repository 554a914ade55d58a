/**
 * Token usage from Anthropic Messages responses, read beside the byte flow.
 * Streams: `message_start` carries input and cache tokens; `message_delta` carries
 * cumulative counts (replace, never add). JSON: the body's `usage` object.
 */
import { SseDecoder } from '../../core/stream/sse.js';
import { JsonBodyMeter, meterByContentType, type JsonUsageReader, type ShallowUsageReader } from '../../core/stream/json-meter.js';
import { lastMemberNumbers, lastMemberValue, leadingStrings } from '../../core/stream/json-shallow.js';
import { emptyUsage, tokensOfBytes, type TokenUsage, type UsageMeter } from '../../core/index.js';

interface WireUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** The writes by cache lifetime: 1-hour writes bill higher than 5-minute ones. */
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
}

/** Copy the counts present in `wire` over `usage` (cumulative semantics). */
export function applyAnthropicUsage(usage: TokenUsage, wire: WireUsage | undefined | null): void {
  if (!wire) return;
  if (typeof wire.input_tokens === 'number') usage.inputTokens = wire.input_tokens;
  if (typeof wire.output_tokens === 'number') usage.outputTokens = wire.output_tokens;
  if (typeof wire.cache_creation_input_tokens === 'number') usage.cacheCreationTokens = wire.cache_creation_input_tokens;
  if (typeof wire.cache_read_input_tokens === 'number') usage.cacheReadTokens = wire.cache_read_input_tokens;
  // Kept off the usage while there are none (most answers say 0): its shape stays the usual
  // one. A usage without the split keeps the one read before.
  const hour = wire.cache_creation?.ephemeral_1h_input_tokens;
  if (typeof hour === 'number' && (hour > 0 || usage.cacheCreation1hTokens !== undefined)) usage.cacheCreation1hTokens = hour;
}

/** Events that carry no usage, model or error (onEvent returns at once for them); deltas first, the one name the decoder counts. */
const IGNORED_EVENTS = ['content_block_delta', 'content_block_start', 'content_block_stop', 'ping'];

/** A text delta's JSON without its text: what a delta carries besides the answer. */
export const DELTA_ENVELOPE = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}'.length;
/** The same as a whole event, its `event:` and `data:` lines and the blank line included. */
const DELTA_EVENT_ENVELOPE = 'event: content_block_delta\ndata: \n\n'.length + DELTA_ENVELOPE;

export class AnthropicStreamMeter implements UsageMeter {
  readonly usage = emptyUsage();
  streamError: string | undefined;
  model: string | undefined;
  /** `message_delta` reported the output tokens: the counts are the stream's own, whole. */
  usageFinal = false;
  /** A Messages stream began (`message_start`) and has not yet ended (`message_stop` or `error`). */
  private open = false;
  /** Characters of the deltas read (not skipped), beyond their envelope. */
  private deltaText = 0;
  // Token deltas are most of a stream and carry no usage: passed over unread where possible.
  private readonly sse = new SseDecoder((event, data) => this.onEvent(event, data), { skip: IGNORED_EVENTS, countSkipped: 1 });

  /**
   * The answer's tokens by the bytes of its deltas beyond their envelopes, read or skipped:
   * what a stream cut before `message_delta` is charged (see core/stream/estimated-usage.ts).
   */
  get estimatedOutputTokens(): number {
    const skipped = this.sse.skippedBytes - this.sse.skippedEvents * DELTA_EVENT_ENVELOPE;
    return tokensOfBytes(Math.max(0, skipped) + this.deltaText);
  }

  write(chunk: Uint8Array): void {
    this.sse.push(chunk);
  }

  end(): void {
    this.sse.end();
    // An upstream that closes cleanly mid-answer must not be audited as a whole answer.
    if (this.open) this.streamError ??= 'stream ended before message_stop';
  }

  private onEvent(event: string, data: string): void {
    if (event === 'message_stop') this.open = false;
    else if (event === 'content_block_delta') this.deltaText += Math.max(0, data.length - DELTA_ENVELOPE);
    // Only three event types carry what we need; the many deltas are skipped unparsed.
    if (event !== 'message_start' && event !== 'message_delta' && event !== 'error') return;
    let parsed: { message?: { model?: string; usage?: WireUsage }; usage?: WireUsage; error?: { type?: string; message?: string } };
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    if (event === 'message_start') {
      this.open = true;
      this.model = parsed.message?.model;
      applyAnthropicUsage(this.usage, parsed.message?.usage);
    } else if (event === 'message_delta') {
      applyAnthropicUsage(this.usage, parsed.usage);
      if (typeof parsed.usage?.output_tokens === 'number') this.usageFinal = true;
    } else {
      this.open = false;
      this.streamError = `${parsed.error?.type ?? 'error'}: ${parsed.error?.message ?? ''}`;
    }
  }
}

/** Usage and model from a Messages JSON body. */
const readMessage: JsonUsageReader = (body, into) => {
  const b = body as { model?: string; usage?: WireUsage; type?: string } | null;
  if (!b || typeof b !== 'object') return;
  if (b.type === 'message') into.model = b.model;
  applyAnthropicUsage(into.usage, b.usage);
  if (b.usage && typeof b.usage === 'object') into.usageFinal = true;
};

const MESSAGE_HEAD = ['type', 'model'] as const;

/**
 * The same from the bytes: a Message opens with its string members (`id`, `type`, `role`,
 * `model`) and ends with `usage`, so the content between them need not be parsed.
 */
const readMessageShallow: ShallowUsageReader = (bytes, into) => {
  // Plain counts are read in place; anything else in `usage` is parsed.
  const counts = lastMemberNumbers(bytes, 'usage', USAGE_NAMES);
  // Cache writes come with their split by lifetime (a nested object): then `usage` is parsed.
  const usage = counts && !((counts[2] ?? 0) > 0) ? { input_tokens: counts[0], output_tokens: counts[1], cache_creation_input_tokens: counts[2], cache_read_input_tokens: counts[3] } : lastMemberValue(bytes, 'usage');
  if (usage === undefined || usage === null || typeof usage !== 'object') return false;
  const head = leadingStrings(bytes, MESSAGE_HEAD);
  if (!head || head[0] === undefined) return false;
  if (head[0] === 'message') {
    if (head[1] === undefined) return false;
    into.model = head[1];
  }
  applyAnthropicUsage(into.usage, usage as WireUsage);
  into.usageFinal = true;
  return true;
};

/** WireUsage's fields, in the order `lastMemberNumbers` answers. */
const USAGE_NAMES = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;

/** Pick the meter for a response by its content type. */
export function anthropicMeter(contentType: string | string[] | undefined): UsageMeter | undefined {
  return meterByContentType(contentType, () => new AnthropicStreamMeter(), () => new JsonBodyMeter(readMessage, readMessageShallow));
}
