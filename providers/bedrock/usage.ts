/**
 * Token usage from Bedrock Runtime responses, read beside the byte flow.
 * - InvokeModel: the `x-amzn-bedrock-*-token-count` headers, else the model's own body
 *   (Anthropic `usage`, Titan `inputTextTokenCount` / `tokenCount`).
 * - Converse: the body's `usage`, read from the answer's bytes when it ends the answer
 *   (`core/stream/json-shallow.ts`), else from the body parsed whole.
 * - InvokeModelWithResponseStream: `amazon-bedrock-invocationMetrics` inside a chunk's
 *   base64 `bytes` (the last chunk carries it), else the Anthropic events' usage.
 * - ConverseStream: the `metadata` event's `usage`.
 * Exception frames inside a 200 stream become the meter's `streamError`.
 */
import { emptyUsage, tokensOfBytes, type TokenUsage, type UsageMeter } from '../../core/index.js';
import { JsonBodyMeter, type JsonUsageReader, type ShallowUsageReader } from '../../core/stream/json-meter.js';
import { lastMemberValue } from '../../core/stream/json-shallow.js';
import { EventStreamReader, frameJson, type EventFrame } from './eventstream.js';

type Json = Record<string, unknown>;

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function apply(usage: TokenUsage, input?: number, output?: number, cacheRead?: number, cacheWrite?: number): void {
  if (input !== undefined) usage.inputTokens = input;
  if (output !== undefined) usage.outputTokens = output;
  if (cacheRead !== undefined) usage.cacheReadTokens = cacheRead;
  if (cacheWrite !== undefined) usage.cacheCreationTokens = cacheWrite;
}

/** Converse's `usage` object (body and `metadata` event alike). */
function applyConverse(usage: TokenUsage, u: Json | undefined): boolean {
  if (!u) return false;
  apply(usage, num(u.inputTokens), num(u.outputTokens), num(u.cacheReadInputTokens), num(u.cacheWriteInputTokens));
  return true;
}

/** `amazon-bedrock-invocationMetrics`, which Bedrock adds to a stream's last chunk. */
function applyInvocationMetrics(usage: TokenUsage, m: Json | undefined): boolean {
  if (!m) return false;
  apply(usage, num(m.inputTokenCount), num(m.outputTokenCount), num(m.cacheReadInputTokenCount), num(m.cacheWriteInputTokenCount));
  return true;
}

/** An Anthropic model's `usage` object. */
function applyAnthropic(usage: TokenUsage, u: Json): void {
  apply(usage, num(u.input_tokens), num(u.output_tokens), num(u.cache_read_input_tokens), num(u.cache_creation_input_tokens));
  applyAnthropicSplit(usage, u);
}

/** Its cache writes by lifetime (`cache_creation`): the 1-hour ones bill higher. */
function applyAnthropicSplit(usage: TokenUsage, u: Json): void {
  const hour = num(obj(u.cache_creation)?.ephemeral_1h_input_tokens);
  // Kept off the usage while there are none (most answers say 0), as the Anthropic meter does.
  if (hour !== undefined && (hour > 0 || usage.cacheCreation1hTokens !== undefined)) usage.cacheCreation1hTokens = hour;
}

/**
 * A model's own usage fields in an InvokeModel body or stream chunk (Anthropic, Titan,
 * Llama); returns whether it had any.
 */
function applyModelBody(usage: TokenUsage, body: Json): boolean {
  const anthropic = obj(body.usage) ?? obj(obj(body.message)?.usage);
  if (anthropic) {
    applyAnthropic(usage, anthropic);
    return true;
  }
  const titanIn = num(body.inputTextTokenCount);
  const first = Array.isArray(body.results) ? obj(body.results[0]) : undefined;
  const titanOut = num(first?.tokenCount) ?? num(body.totalOutputTextTokenCount);
  apply(usage, titanIn, titanOut);
  // Llama: the prompt's count, and the answer's so far, on its stream's chunks.
  const llamaIn = num(body.prompt_token_count);
  const llamaOut = num(body.generation_token_count);
  apply(usage, llamaIn, llamaOut);
  return titanIn !== undefined || titanOut !== undefined || llamaIn !== undefined || llamaOut !== undefined;
}

/**
 * Reads usage and errors from decoded event-stream frames. Fed by {@link EventStreamMeter}
 * on pass-through, or directly by the convenience endpoint's SSE translation.
 */
export class FrameUsage {
  readonly usage = emptyUsage();
  streamError: string | undefined;
  model: string | undefined;
  private metered = false;
  /** The stream reported its whole counts (invocation metrics, `metadata`, or an Anthropic `message_delta`). */
  usageFinal = false;
  /** Characters of the answer's deltas read so far. */
  private answerText = 0;

  /** What a stream cut before its usage report is charged (see core/stream/estimated-usage.ts). */
  get estimatedOutputTokens(): number {
    return tokensOfBytes(this.answerText);
  }

  /** Read one frame; returns the decoded model event of a `chunk` frame, if it is one. */
  frame(f: EventFrame): Json | undefined {
    if (f.messageType !== 'event') {
      const payload = obj(frameJson(f));
      const message = typeof payload?.message === 'string' ? payload.message : (f.headers[':error-message'] ?? '');
      this.streamError = `${f.type || f.messageType}: ${message}`;
      return undefined;
    }
    if (f.type === 'metadata') {
      if (applyConverse(this.usage, obj(obj(frameJson(f))?.usage))) this.usageFinal = true;
      return undefined;
    }
    if (f.type === 'contentBlockDelta') {
      // Parsed only for its length: the frame's `p` member pads it by a random amount.
      this.answerText += deltaTextLength(obj(obj(frameJson(f))?.delta));
      return undefined;
    }
    if (f.type !== 'chunk') return undefined;
    const bytes = obj(frameJson(f))?.bytes;
    if (typeof bytes !== 'string') return undefined;
    let event: Json | undefined;
    try {
      event = obj(JSON.parse(Buffer.from(bytes, 'base64').toString('utf8')));
    } catch {
      return undefined;
    }
    if (!event) return undefined;
    if (applyInvocationMetrics(this.usage, obj(event['amazon-bedrock-invocationMetrics']))) this.metered = this.usageFinal = true;
    else if (!this.metered) applyModelBody(this.usage, event);
    if (event.type === 'content_block_delta') this.answerText += deltaTextLength(obj(event.delta));
    else if (event.type === 'message_delta' && num(obj(event.usage)?.output_tokens) !== undefined) this.usageFinal = true;
    else this.answerText += modelChunkTextLength(event);
    const model = obj(event.message)?.model;
    if (typeof model === 'string' && event.type === 'message_start') this.model = model;
    return event;
  }
}

/**
 * The text a delta adds to the answer: Anthropic's `text`, `partial_json` or `thinking`;
 * Converse's `text`, `toolUse.input` or `reasoningContent.text`.
 */
function deltaTextLength(delta: Json | undefined): number {
  if (!delta) return 0;
  const text = delta.text ?? delta.partial_json ?? delta.thinking ?? obj(delta.toolUse)?.input ?? obj(delta.reasoningContent)?.text;
  return typeof text === 'string' ? text.length : 0;
}

/**
 * The text of another model family's stream chunk: Llama's `generation`, Mistral's
 * `outputs[0].text`, Titan's `outputText`, Nova's `contentBlockDelta`, Cohere's `text`.
 */
function modelChunkTextLength(event: Json): number {
  const outputs = Array.isArray(event.outputs) ? obj(event.outputs[0]) : undefined;
  const text = event.generation ?? outputs?.text ?? event.outputText ?? obj(obj(event.contentBlockDelta)?.delta)?.text ?? event.text;
  return typeof text === 'string' ? text.length : 0;
}

/** Meter for a pass-through `application/vnd.amazon.eventstream` response. */
export class EventStreamMeter implements UsageMeter {
  private readonly frames = new FrameUsage();
  private readonly reader = new EventStreamReader((f) => this.frames.frame(f));
  private ended = false;

  get usage(): TokenUsage {
    return this.frames.usage;
  }

  get streamError(): string | undefined {
    if (this.frames.streamError) return this.frames.streamError;
    if (this.reader.broken) return `malformed event stream: ${this.reader.broken}`;
    if (this.ended && this.reader.truncated) return 'event stream ended in the middle of a frame';
    return undefined;
  }

  get model(): string | undefined {
    return this.frames.model;
  }

  get usageFinal(): boolean {
    return this.frames.usageFinal;
  }

  get estimatedOutputTokens(): number {
    return this.frames.estimatedOutputTokens;
  }

  write(chunk: Uint8Array): void {
    this.reader.push(chunk);
  }

  end(): void {
    this.ended = true;
  }
}

function header(headers: Readonly<Record<string, string | string[]>>, name: string): number | undefined {
  const v = headers[name];
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
  return n;
}

const readConverse: JsonUsageReader = (body, into) => {
  if (applyConverse(into.usage, obj(obj(body)?.usage))) into.usageFinal = true;
};

const readModelBody: JsonUsageReader = (body, into) => {
  const b = obj(body);
  if (b && applyModelBody(into.usage, b)) into.usageFinal = true;
};

/**
 * A Converse answer (and an Anthropic model's) ends with its `usage` object (Converse's
 * `metrics` may follow): read from the bytes, the answer is not decoded and parsed whole.
 */
function usageTail(applyUsage: (usage: TokenUsage, u: Json) => void): ShallowUsageReader {
  return (bytes, into) => {
    const usage = obj(lastMemberValue(bytes, 'usage'));
    if (usage) {
      applyUsage(into.usage, usage);
      into.usageFinal = true;
    }
    return usage !== undefined;
  };
}

const readConverseShallow = usageTail(applyConverse);
const readAnthropicShallow = usageTail(applyAnthropic);

/** Only the split of an Anthropic body's cache writes: the headers gave the counts. */
const readSplit: JsonUsageReader = (body, into) => {
  const b = obj(body);
  const u = obj(b?.usage) ?? obj(obj(b?.message)?.usage);
  if (u) applyAnthropicSplit(into.usage, u);
};
const readSplitShallow = usageTail(applyAnthropicSplit);

/** Meter for a JSON InvokeModel or Converse response. */
export function bedrockJsonMeter(headers: Readonly<Record<string, string | string[]>>, converse: boolean): UsageMeter {
  const input = header(headers, 'x-amzn-bedrock-input-token-count');
  const output = header(headers, 'x-amzn-bedrock-output-token-count');
  const cacheWrite = header(headers, 'x-amzn-bedrock-cache-write-input-token-count');
  // The headers are authoritative; the body is read only when they are missing, or, for
  // an InvokeModel answer that wrote to the cache, for how long (no header tells).
  const meter: UsageMeter =
    input !== undefined && output !== undefined
      ? !converse && cacheWrite !== undefined && cacheWrite > 0
        ? splitMeter()
        : { usage: emptyUsage(), write: () => {}, end: () => {} }
      : converse
        ? new JsonBodyMeter(readConverse, readConverseShallow)
        : new JsonBodyMeter(readModelBody, readAnthropicShallow);
  apply(meter.usage, input, output, header(headers, 'x-amzn-bedrock-cache-read-input-token-count'), cacheWrite);
  return meter;
}

/** Reads an InvokeModel body for its cache-write split alone; the counts are the headers', whole. */
function splitMeter(): JsonBodyMeter {
  const meter = new JsonBodyMeter(readSplit, readSplitShallow);
  meter.usageFinal = true;
  return meter;
}

/** Pick the meter for a successful generation response. */
export function bedrockMeter(status: number, headers: Readonly<Record<string, string | string[]>>, converse: boolean): UsageMeter | undefined {
  if (status < 200 || status >= 300) return undefined;
  const ct = String(headers['content-type'] ?? '');
  if (ct.startsWith('application/vnd.amazon.eventstream')) return new EventStreamMeter();
  return bedrockJsonMeter(headers, converse);
}
