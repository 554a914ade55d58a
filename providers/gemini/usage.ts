/**
 * Token usage from Gemini answers, read beside the byte flow. A stream's `usageMetadata`
 * holds running totals, but a chunk before the last may leave counts out (the output counts
 * often come only with the `finishReason`): each is kept at its largest, never added. Gemini counts cached tokens inside `promptTokenCount`; the gateway
 * keeps them apart. Thinking tokens are billed as output, tool-use prompt tokens as input.
 * Streams: `alt=sse` (`data: {GenerateContentResponse}`) is read incrementally; the
 * JSON-array stream (no `alt`) is read whole at the end, a plain JSON answer from its last
 * members when it can be (else whole too).
 */
import { emptyUsage, SseDecoder, tokensOfBytes, type TokenUsage, type UsageMeter } from '../../core/index.js';
import { JsonBodyMeter, meterByContentType, type JsonUsageReader, type ShallowUsageReader } from '../../core/stream/json-meter.js';
import { lastMemberNumbers, lastMemberValue } from '../../core/stream/json-shallow.js';
import type { GeminiPart, GeminiResponse, GeminiUsageMetadata } from '../translate/openai-gemini/gemini-types.js';

/**
 * Our counts for one `usageMetadata`.
 * @example
 * geminiUsage({ promptTokenCount: 1200, cachedContentTokenCount: 1000, candidatesTokenCount: 50, thoughtsTokenCount: 30 })
 * // → { inputTokens: 200, outputTokens: 80, cacheCreationTokens: 0, cacheReadTokens: 1000 }
 */
export function geminiUsage(meta: GeminiUsageMetadata | undefined): TokenUsage {
  const usage = emptyUsage();
  if (!meta) return usage;
  const n = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const cached = n(meta.cachedContentTokenCount);
  usage.inputTokens = Math.max(0, n(meta.promptTokenCount) - cached) + n(meta.toolUsePromptTokenCount);
  usage.outputTokens = n(meta.candidatesTokenCount) + n(meta.thoughtsTokenCount);
  usage.cacheReadTokens = cached;
  return usage;
}

/**
 * What the chunks of one answer said so far: the usage, the model, the end. Counts are
 * running totals, but a chunk before the last may leave some out (the output counts often
 * come only with the `finishReason`), so each is kept at the largest seen.
 */
export class GeminiChunkReader {
  usage: TokenUsage = emptyUsage();
  model: string | undefined;
  streamError: string | undefined;
  /**
   * Every candidate seen carried its finishReason (or the prompt was blocked): the answer is
   * whole. With `candidateCount` above 1 the candidates stream side by side and finish apart,
   * so the first finishReason says nothing about the others.
   */
  get finished(): boolean {
    return this.blocked || (this.ended > 0 && this.open === 0);
  }
  private blocked = false;
  /** Per candidate index seen (absent index: its place in the chunk's list, as proto3 JSON leaves a 0 out): finished yet. */
  private readonly candidateDone = new Map<number, boolean>();
  /** Candidates seen without a finishReason yet, and with one. */
  private open = 0;
  private ended = 0;
  /** Counts came with or after the end: they are the answer's own, whole. */
  usageFinal = false;
  private readonly counts: GeminiUsageMetadata = {};
  /** Characters of the answer so far: text parts (thoughts are billed as output too) and call arguments. */
  private answerText = 0;

  /** What a stream cut before its last counts is charged (see core/stream/estimated-usage.ts). */
  get estimatedOutputTokens(): number {
    return tokensOfBytes(this.answerText);
  }

  read(chunk: GeminiResponse & { error?: { status?: string; message?: string } }): void {
    if (chunk === null || typeof chunk !== 'object') return;
    if (chunk.error) {
      this.streamError = `${chunk.error.status ?? 'error'}: ${chunk.error.message ?? ''}`;
      return;
    }
    if (chunk.usageMetadata) this.usage = geminiUsage(keepLargest(this.counts, chunk.usageMetadata));
    this.model ??= chunk.modelVersion;
    for (const part of chunk.candidates?.[0]?.content?.parts ?? []) this.answerText += partLength(part);
    if (chunk.promptFeedback?.blockReason) this.blocked = true;
    else if (chunk.candidates) this.readEnds(chunk.candidates);
    if (this.finished && chunk.usageMetadata) this.usageFinal = true;
  }

  private readEnds(candidates: NonNullable<GeminiResponse['candidates']>): void {
    if (!Array.isArray(candidates)) return;
    for (let position = 0; position < candidates.length; position++) {
      const c = candidates[position];
      if (c === null || typeof c !== 'object') continue;
      const index = typeof c.index === 'number' ? c.index : position;
      const done = this.candidateDone.get(index);
      if (done === true) continue;
      if (done === undefined) this.open++;
      if (c.finishReason) {
        this.candidateDone.set(index, true);
        this.open--;
        this.ended++;
      } else if (done === undefined) this.candidateDone.set(index, false);
    }
  }
}

/** `into` with each count of `meta` that is larger than what it holds. */
function keepLargest(into: GeminiUsageMetadata, meta: GeminiUsageMetadata): GeminiUsageMetadata {
  for (const name of COUNT_NAMES) {
    const v = meta[name];
    if (typeof v === 'number' && Number.isFinite(v) && v > (into[name] ?? -1)) into[name] = v;
  }
  return into;
}

/** A part's share of the answer, in characters. */
function partLength(part: GeminiPart | null | undefined): number {
  if (!part || typeof part !== 'object') return 0;
  if (typeof part.text === 'string') return part.text.length;
  const call = part.functionCall;
  return call && typeof call === 'object' ? (typeof call.name === 'string' ? call.name.length : 0) + (JSON.stringify(call.args ?? {})?.length ?? 0) : 0;
}

/** Reads an `alt=sse` stream the client gets unchanged. */
export class GeminiSseMeter implements UsageMeter {
  readonly reader = new GeminiChunkReader();
  private readonly sse = new SseDecoder((_event, data) => {
    try {
      this.reader.read(JSON.parse(data) as GeminiResponse);
    } catch {
      // not JSON: nothing to count
    }
  });

  get usage(): TokenUsage {
    return this.reader.usage;
  }
  get model(): string | undefined {
    return this.reader.model;
  }
  get streamError(): string | undefined {
    return this.reader.streamError;
  }
  get usageFinal(): boolean {
    return this.reader.usageFinal;
  }
  get estimatedOutputTokens(): number {
    return this.reader.estimatedOutputTokens;
  }
  write(chunk: Uint8Array): void {
    this.sse.push(chunk);
  }
  end(): void {
    this.sse.end();
  }
}

const ERROR_KEY = Buffer.from('"error"', 'latin1');

/** The `usageMetadata` fields {@link geminiUsage} reads, in the order `lastMemberNumbers` answers. */
const COUNT_NAMES = ['promptTokenCount', 'cachedContentTokenCount', 'candidatesTokenCount', 'thoughtsTokenCount', 'toolUsePromptTokenCount'] as const;

function countsOf(c: readonly (number | undefined)[]): GeminiUsageMetadata {
  return { promptTokenCount: c[0], cachedContentTokenCount: c[1], candidatesTokenCount: c[2], thoughtsTokenCount: c[3], toolUsePromptTokenCount: c[4] };
}

/** A JSON answer, or the JSON-array stream `:streamGenerateContent` sends without `alt=sse`, parsed. */
const readAnswers: JsonUsageReader = (body, into) => {
  const reader = new GeminiChunkReader();
  for (const chunk of Array.isArray(body) ? body : [body]) {
    reader.read(chunk as GeminiResponse);
    if ((chunk as GeminiResponse | null)?.usageMetadata) into.usageFinal = true;
  }
  Object.assign(into.usage, reader.usage);
  into.model = reader.model;
  into.streamError = reader.streamError;
};

/**
 * A generateContent answer's usage and model read from its bytes: Gemini ends an answer
 * with `usageMetadata`, `modelVersion` and `responseId` (pretty-printed), so the candidates
 * before them need not be decoded or parsed (`core/stream/json-shallow.ts`). False, having
 * read nothing, when it cannot tell: the JSON-array stream, an answer without
 * `modelVersion` among its last members, or one with `"error"` anywhere in it (an error
 * member, read only by the whole parse; a key spelled with escapes is not looked for).
 */
const readAnswerShallow: ShallowUsageReader = (bytes, into) => {
  const modelVersion = lastMemberValue(bytes, 'modelVersion');
  if (modelVersion === undefined) return false;
  // The counts read in place; any other form of the object is parsed alone.
  const counts = lastMemberNumbers(bytes, 'usageMetadata', COUNT_NAMES);
  const usageMetadata = counts ? countsOf(counts) : lastMemberValue(bytes, 'usageMetadata');
  if (usageMetadata === undefined || bytes.indexOf(ERROR_KEY) >= 0) return false;
  // The two members as the whole parse would hand them to the same reader.
  readAnswers({ usageMetadata, modelVersion }, into);
  return true;
};

/** Pick the meter for a response by its content type. */
export function geminiMeter(contentType: string | string[] | undefined): UsageMeter | undefined {
  return meterByContentType(contentType, () => new GeminiSseMeter(), () => new JsonBodyMeter(readAnswers, readAnswerShallow));
}
