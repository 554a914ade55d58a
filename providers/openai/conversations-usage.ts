/**
 * Token usage from Mistral Conversations API answers (`POST /v1/conversations`, an append
 * `/v1/conversations/{id}`, a `/restart`), read beside the byte flow. A conversation
 * response is `{ conversation_id, outputs: [entries], usage: { prompt_tokens,
 * completion_tokens, total_tokens, connector_tokens?, connectors? } }`; the model that
 * answered is named on each `message.output` entry (the request may name only an agent,
 * or, appending, nothing). Streams are typed SSE events — `conversation.response.started`,
 * `message.output.delta` (with `model`), tool events, then `conversation.response.done`
 * with the usage or `conversation.response.error` — and no `[DONE]`.
 */
import { emptyUsage, SseDecoder, tokensOfBytes, type TokenUsage, type UsageMeter } from '../../core/index.js';
import { JsonBodyMeter, meterByContentType, type JsonUsageReader } from '../../core/stream/json-meter.js';
import { generatedChars } from './usage.js';

interface WireConversationUsage {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  total_tokens?: number | null;
}

interface WireEntry {
  type?: string;
  model?: unknown;
}

interface WireConversationResponse {
  conversation_id?: unknown;
  outputs?: unknown;
  usage?: WireConversationUsage | null;
}

interface WireEvent {
  type?: string;
  conversation_id?: unknown;
  model?: unknown;
  usage?: WireConversationUsage | null;
  message?: string;
  code?: unknown;
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * Copy a conversation's usage over `usage`. Tokens a connector (web search, a library)
 * brought in are reported apart, as `connector_tokens`; where `total_tokens` holds more
 * than prompt and completion, the rest is input the model read, and counted as such.
 */
export function applyConversationUsage(usage: TokenUsage, wire: WireConversationUsage | null | undefined): void {
  if (!wire || typeof wire !== 'object') return;
  const prompt = count(wire.prompt_tokens);
  const completion = count(wire.completion_tokens);
  const total = count(wire.total_tokens);
  if (completion !== undefined) usage.outputTokens = completion;
  if (prompt !== undefined || total !== undefined) usage.inputTokens = Math.max(prompt ?? 0, (total ?? 0) - (completion ?? 0));
}

/** The model of the first output entry that names one. */
function outputModel(outputs: unknown): string | undefined {
  if (!Array.isArray(outputs)) return undefined;
  for (const entry of outputs as WireEntry[]) if (entry && typeof entry === 'object' && typeof entry.model === 'string') return entry.model;
  return undefined;
}

const STARTED = 'conversation.response.started';
const DONE = 'conversation.response.done';
const ERROR = 'conversation.response.error';
const DELTA = 'message.output.delta';

/** Reads usage from a Conversations SSE stream the client gets unchanged. */
export class ConversationStreamMeter implements UsageMeter {
  readonly usage = emptyUsage();
  model: string | undefined;
  /** From `conversation.response.started`: which conversation answered (a restart's is a new one). */
  conversationId: string | undefined;
  streamError: string | undefined;
  usageFinal = false;
  /** Output deltas seen (about a token each, as OpenAI's). */
  private deltas = 0;
  /** Characters of their text: a delta may carry many tokens. */
  private generated = 0;
  private ended = false;
  private readonly sse = new SseDecoder((event, data) => this.onEvent(event, data));

  /** What a stream cut before `conversation.response.done` is charged: a token a delta, or the text over four where that is more. */
  get estimatedOutputTokens(): number {
    return Math.max(this.deltas, tokensOfBytes(this.generated));
  }

  write(chunk: Uint8Array): void {
    this.sse.push(chunk);
  }

  end(): void {
    this.sse.end();
    if (!this.ended) this.streamError ??= `stream ended before ${DONE}`;
  }

  private countDelta(data: string): void {
    this.deltas++;
    this.generated += generatedChars(data, 0);
  }

  private onEvent(event: string, data: string): void {
    const named = event !== 'message';
    if (named && event === DELTA) {
      this.countDelta(data);
      // Once the model is known, the many deltas are counted, not parsed.
      if (this.model !== undefined) return;
    } else if (named && event !== DONE && event !== ERROR && event !== STARTED) {
      return; // tool and handoff events: no usage, model or error in them
    }
    let parsed: WireEvent;
    try {
      parsed = JSON.parse(data) as WireEvent;
    } catch {
      return;
    }
    if (parsed === null || typeof parsed !== 'object') return;
    const type = named ? event : parsed.type;
    if (type === STARTED) {
      if (typeof parsed.conversation_id === 'string') this.conversationId = parsed.conversation_id;
    } else if (type === DELTA) {
      if (!named) this.countDelta(data);
      if (typeof parsed.model === 'string') this.model ??= parsed.model;
    } else if (type === DONE) {
      this.ended = true;
      applyConversationUsage(this.usage, parsed.usage);
      if (parsed.usage !== null && typeof parsed.usage === 'object') this.usageFinal = true;
    } else if (type === ERROR) {
      this.ended = true;
      this.streamError = `${typeof parsed.code === 'string' || typeof parsed.code === 'number' ? parsed.code : 'error'}: ${parsed.message ?? ''}`;
    }
  }
}

/** A conversation response's meter, which also says which conversation answered. */
class ConversationJsonMeter extends JsonBodyMeter {
  conversationId: string | undefined;
}

/** Usage and the answering model from a conversation response, parsed whole (its usage follows the outputs). */
const readConversation: JsonUsageReader = (body, into) => {
  const b = body as WireConversationResponse | null;
  if (!b || typeof b !== 'object' || Array.isArray(b)) return;
  if (typeof b.conversation_id === 'string') (into as ConversationJsonMeter).conversationId = b.conversation_id;
  into.model = outputModel(b.outputs) ?? into.model;
  applyConversationUsage(into.usage, b.usage);
  if (b.usage !== null && typeof b.usage === 'object') into.usageFinal = true;
};

/** Pick the meter for a Conversations answer by its content type. */
export function conversationsMeter(contentType: string | string[] | undefined): UsageMeter | undefined {
  return meterByContentType(contentType, () => new ConversationStreamMeter(), () => new ConversationJsonMeter(readConversation));
}
