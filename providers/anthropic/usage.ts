/**
 * Token usage from Anthropic Messages responses, read beside the byte flow.
 * Streams: `message_start` carries input and cache tokens; `message_delta` carries
 * cumulative counts (replace, never add). JSON: the body's `usage` object.
 */
import { SseDecoder } from '../../core/stream/sse.js';
import { emptyUsage, type TokenUsage, type UsageMeter } from '../../core/index.js';

interface WireUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Copy the counts present in `wire` over `usage` (cumulative semantics). */
export function applyAnthropicUsage(usage: TokenUsage, wire: WireUsage | undefined | null): void {
  if (!wire) return;
  if (typeof wire.input_tokens === 'number') usage.inputTokens = wire.input_tokens;
  if (typeof wire.output_tokens === 'number') usage.outputTokens = wire.output_tokens;
  if (typeof wire.cache_creation_input_tokens === 'number') usage.cacheCreationTokens = wire.cache_creation_input_tokens;
  if (typeof wire.cache_read_input_tokens === 'number') usage.cacheReadTokens = wire.cache_read_input_tokens;
}

export class AnthropicStreamMeter implements UsageMeter {
  readonly usage = emptyUsage();
  streamError: string | undefined;
  model: string | undefined;
  private readonly sse = new SseDecoder((event, data) => this.onEvent(event, data));

  write(chunk: Uint8Array): void {
    this.sse.push(chunk);
  }

  end(): void {
    this.sse.end();
  }

  private onEvent(event: string, data: string): void {
    // Only three event types carry what we need; the many deltas are skipped unparsed.
    if (event !== 'message_start' && event !== 'message_delta' && event !== 'error') return;
    let parsed: { message?: { model?: string; usage?: WireUsage }; usage?: WireUsage; error?: { type?: string; message?: string } };
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    if (event === 'message_start') {
      this.model = parsed.message?.model;
      applyAnthropicUsage(this.usage, parsed.message?.usage);
    } else if (event === 'message_delta') {
      applyAnthropicUsage(this.usage, parsed.usage);
    } else {
      this.streamError = `${parsed.error?.type ?? 'error'}: ${parsed.error?.message ?? ''}`;
    }
  }
}

/** Largest JSON body kept for reading usage; bigger ones are passed on unread. */
const JSON_LIMIT = 8 * 1024 * 1024;

export class AnthropicJsonMeter implements UsageMeter {
  readonly usage = emptyUsage();
  model: string | undefined;
  streamError: string | undefined;
  private chunks: Uint8Array[] = [];
  private size = 0;

  write(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.size <= JSON_LIMIT) this.chunks.push(chunk);
  }

  end(): void {
    if (this.size === 0 || this.size > JSON_LIMIT) return;
    try {
      const body = JSON.parse(Buffer.concat(this.chunks).toString('utf8')) as { model?: string; usage?: WireUsage; type?: string };
      if (body.type === 'message') this.model = body.model;
      applyAnthropicUsage(this.usage, body.usage);
    } catch {
      // not JSON: nothing to count
    }
    this.chunks = [];
  }
}

/** Pick the meter for a response by its content type. */
export function anthropicMeter(contentType: string | string[] | undefined): UsageMeter | undefined {
  const ct = String(contentType ?? '');
  if (ct.startsWith('text/event-stream')) return new AnthropicStreamMeter();
  if (ct.includes('json')) return new AnthropicJsonMeter();
  return undefined;
}
