/**
 * Token usage from OpenAI Responses API answers (`POST /v1/responses`), read beside the
 * byte flow. A `response` object reports `usage: { input_tokens, input_tokens_details:
 * { cached_tokens }, output_tokens, output_tokens_details: { reasoning_tokens } }`: cached
 * reads are inside `input_tokens` and reasoning inside `output_tokens`, as in a chat
 * completion, so the counts map the same way (`applyOpenAIUsage`).
 * Streams are typed SSE events (`event: response.created`, …) without `[DONE]`; only the
 * lifecycle events carry the response object, and a stream ends with exactly one of
 * `response.completed`, `response.incomplete` or `response.failed` — the one with the usage.
 */
import { emptyUsage, SseDecoder, tokensOfBytes, type TokenUsage, type UsageMeter } from '../../core/index.js';
import type { SkippedEventMeasurer } from '../../core/stream/sse.js';
import { JsonBodyMeter, meterByContentType, type JsonUsageReader } from '../../core/stream/json-meter.js';
import { DeltaBytes, deltaChars } from './responses-delta-text.js';
import { applyOpenAIUsage } from './usage.js';

interface WireResponsesUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  input_tokens_details?: { cached_tokens?: number | null } | null;
}

interface WireError {
  code?: string | null;
  type?: string;
  message?: string;
}

interface WireResponse {
  object?: string;
  status?: string;
  model?: unknown;
  usage?: WireResponsesUsage | null;
  error?: WireError | null;
}

/** One stream event's data: a lifecycle event carries `response`; `error` has its fields at the top. */
interface WireEvent {
  type?: string;
  response?: WireResponse | null;
  code?: string | null;
  message?: string;
  error?: WireError | null;
}

/** Copy the counts in a Responses `usage` over `usage` (a response reports them once, whole). */
export function applyResponsesUsage(usage: TokenUsage, wire: WireResponsesUsage | null | undefined): void {
  if (!wire || typeof wire !== 'object') return;
  const cached = wire.input_tokens_details?.cached_tokens;
  applyOpenAIUsage(usage, {
    prompt_tokens: wire.input_tokens,
    completion_tokens: wire.output_tokens,
    prompt_tokens_details: { cached_tokens: typeof cached === 'number' ? cached : 0 },
  });
}

function describe(error: WireError | null | undefined, fallback: string): string {
  return `${error?.code ?? error?.type ?? fallback}: ${error?.message ?? ''}`;
}

/** Events whose response object says the model (and, for the last three, the usage). */
const START_EVENTS = new Set(['response.created', 'response.in_progress', 'response.queued']);
const END_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** The deltas, most of a stream: no usage, model or error in them (onEvent ignores them too). */
const DELTA_EVENTS = [
  'response.output_text.delta',
  'response.reasoning_summary_text.delta',
  'response.reasoning_text.delta',
  'response.function_call_arguments.delta',
  'response.custom_tool_call_input.delta',
  'response.refusal.delta',
  'response.audio.delta',
  'response.audio.transcript.delta',
  'response.code_interpreter_call_code.delta',
  'response.mcp_call_arguments.delta',
];

const DELTA_SET = new Set(DELTA_EVENTS);
/** The one delta whose `delta` is not text (base64 audio): a token an event, as before. */
const AUDIO_DELTA = 'response.audio.delta';
const AUDIO_DELTA_INDEX = DELTA_EVENTS.indexOf(AUDIO_DELTA);

/** Reads usage from a Responses SSE stream the client gets unchanged. */
export class ResponsesStreamMeter implements UsageMeter, SkippedEventMeasurer {
  readonly usage = emptyUsage();
  model: string | undefined;
  streamError: string | undefined;
  /** A terminal event (or an `error` event) was read: the stream said how it ended. */
  private ended = false;
  /** A terminal event reported the counts. */
  usageFinal = false;
  /** Deltas that were read rather than skipped. */
  private readDeltas = 0;
  /** Characters of their text. */
  private readText = 0;
  private readonly deltaBytes = new DeltaBytes();
  private readonly sse = new SseDecoder((event, data) => this.onEvent(event, data), { skip: DELTA_EVENTS, countSkipped: DELTA_EVENTS.length, measureSkipped: this });

  /**
   * What a stream cut before its terminal event is charged (see core/stream/estimated-usage.ts):
   * a token a delta, skipped or read (OpenAI streams about one), or the deltas' text over four
   * where that is more (a batching service sends many tokens a delta).
   */
  get estimatedOutputTokens(): number {
    return Math.max(this.readDeltas + this.sse.skippedEvents, tokensOfBytes(this.readText + this.sse.skippedMeasure));
  }

  write(chunk: Uint8Array): void {
    this.sse.push(chunk);
  }

  end(): void {
    this.sse.end();
    // An upstream that closes cleanly mid-answer must not be audited as a whole answer.
    if (!this.ended) this.streamError ??= 'stream ended before response.completed';
  }

  /** Bytes of text in a delta the decoder skips. */
  measureSkipped(chunk: Uint8Array, start: number, end: number, name: number): number {
    return name === AUDIO_DELTA_INDEX ? 0 : this.deltaBytes.of(chunk, start, end);
  }

  private countDelta(type: string, data: string): void {
    this.readDeltas++;
    if (type !== AUDIO_DELTA) this.readText += deltaChars(data);
  }

  private onEvent(event: string, data: string): void {
    // OpenAI names every event; a compatible service that sends `data:` lines alone is
    // read by the `type` inside (each of its events parsed, the price of not naming them).
    const named = event !== 'message';
    if (named && !START_EVENTS.has(event) && !END_EVENTS.has(event) && event !== 'error') {
      if (DELTA_SET.has(event)) this.countDelta(event, data);
      return;
    }
    let parsed: WireEvent;
    try {
      parsed = JSON.parse(data) as WireEvent;
    } catch {
      return;
    }
    if (parsed === null || typeof parsed !== 'object') return;
    const type = named ? event : parsed.type;
    if (type === undefined) return;
    if (DELTA_SET.has(type)) {
      this.countDelta(type, data);
      return;
    }
    if (type === 'error') {
      this.ended = true;
      this.streamError = describe(parsed.error ?? parsed, 'error');
      return;
    }
    const response = parsed.response;
    if (!response || typeof response !== 'object') return;
    const model = typeof response.model === 'string' ? response.model : undefined;
    if (START_EVENTS.has(type)) {
      this.model ??= model;
    } else if (END_EVENTS.has(type)) {
      this.ended = true;
      if (model !== undefined) this.model = model;
      applyResponsesUsage(this.usage, response.usage);
      if (response.usage !== null && typeof response.usage === 'object') this.usageFinal = true;
      if (type === 'response.failed') this.streamError = describe(response.error, 'response.failed');
    }
  }
}

/** A background response answered before it ran: it has generated nothing yet, its `usage: null` is the whole truth. */
const NOT_YET_RUN = new Set(['queued', 'in_progress']);

/**
 * Usage and model from a `response` JSON body. Parsed whole: unlike a chat completion, a
 * response object names its model after non-string members (`error`, `incomplete_details`,
 * `instructions`) and has members after `usage`, so the shallow readers would not answer.
 */
const readResponse: JsonUsageReader = (body, into) => {
  const b = body as WireResponse | null;
  if (!b || typeof b !== 'object' || Array.isArray(b)) return;
  if (typeof b.model === 'string') into.model = b.model;
  applyResponsesUsage(into.usage, b.usage);
  if ((b.usage !== null && typeof b.usage === 'object') || NOT_YET_RUN.has(String(b.status))) into.usageFinal = true;
};

/** The meter for a non-streamed Responses answer. */
export function responsesJsonMeter(): UsageMeter {
  return new JsonBodyMeter(readResponse);
}

/** Pick the meter for a Responses answer by its content type. */
export function responsesMeter(contentType: string | string[] | undefined): UsageMeter | undefined {
  return meterByContentType(contentType, () => new ResponsesStreamMeter(), responsesJsonMeter);
}
