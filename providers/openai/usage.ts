/**
 * Token usage from OpenAI chat responses, read beside the byte flow. OpenAI counts cached
 * prompt tokens inside `prompt_tokens`; the gateway keeps them apart, so
 * `inputTokens = prompt_tokens − cached_tokens` and `cacheReadTokens = cached_tokens`.
 * Streams carry usage in one chunk: OpenAI's usage-only chunk (`choices: []`) when asked
 * with `include_usage`, or the last content chunk on services that always report it.
 */
import { emptyUsage, SseDecoder, tokensOfBytes, type TokenUsage, type UsageMeter } from '../../core/index.js';
import { JsonBodyMeter, meterByContentType, type JsonUsageReader, type ShallowUsageReader } from '../../core/stream/json-meter.js';
import { lastMemberValue, leadingStrings } from '../../core/stream/json-shallow.js';

interface WireUsage {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

interface WireChunk {
  model?: string;
  choices?: unknown[];
  usage?: WireUsage | null;
  error?: { type?: string; message?: string; code?: string };
}

/** Copy the counts in `wire` over `usage` (a response reports them once, whole). */
export function applyOpenAIUsage(usage: TokenUsage, wire: WireUsage | null | undefined): void {
  if (!wire) return;
  const cached = wire.prompt_tokens_details?.cached_tokens ?? 0;
  if (typeof wire.prompt_tokens === 'number') usage.inputTokens = Math.max(0, wire.prompt_tokens - cached);
  usage.cacheReadTokens = cached;
  if (typeof wire.completion_tokens === 'number') usage.outputTokens = wire.completion_tokens;
}

/** Where `"choices"` starts in `data` (-1: nowhere), tried first at `guess`: a stream's chunks share their envelope's length. */
export function choicesAt(data: string, guess: number): number {
  return data.startsWith('"choices"', guess) ? guess : data.indexOf('"choices"');
}

/**
 * Characters of generated text in one chunk, read without parsing it: the string values
 * from `from` on (past a chat chunk's `"choices"`) whose key ends in `content` (`reasoning_content` too),
 * `reasoning`, `refusal`, `arguments` (a tool call's) or `text` (legacy completions). Other
 * strings — a role, a tool call's id, the `obfuscation` pad OpenAI adds to hide token
 * lengths — are passed over. Escapes count as written (a `\n` as two): an estimate errs
 * up, never down.
 */
export function generatedChars(data: string, from: number): number {
  let chars = 0;
  // Colons, not `":"`: a search for a pattern that opens with a quote stops at every quote.
  // A colon between quotes ends a key before a string value: inside a string a quote is
  // escaped, so what precedes such a `"` there is a backslash, never a key's last letter.
  for (let colon = data.indexOf(':', from + 1); colon >= 0; colon = data.indexOf(':', colon + 1)) {
    if (data.charCodeAt(colon - 1) !== QUOTE || data.charCodeAt(colon + 1) !== QUOTE || !generatedKey(data, colon - 1)) continue;
    const end = stringEnd(data, colon + 2);
    if (end < 0) break;
    chars += end - (colon + 2);
    colon = end + 1; // on past the text (its colons are not keys') and its closing quote, which ends a value, not a key
  }
  return chars;
}

/** Where the string whose text starts at `start` ends (its closing quote), or -1: never. */
export function stringEnd(data: string, start: number): number {
  let end = data.indexOf('"', start);
  while (end > 0 && escaped(data, end)) end = data.indexOf('"', end + 1);
  return end;
}

/** Whether the key that ends at `at` names generated text; by its last letter first, as most keys are not. */
function generatedKey(data: string, at: number): boolean {
  switch (data.charCodeAt(at - 1)) {
    case 0x74: // t
      return data.endsWith('content', at) || data.endsWith('"text', at);
    case 0x67: // g
      return data.endsWith('"reasoning', at);
    case 0x73: // s
      return data.endsWith('"arguments', at);
    case 0x6c: // l
      return data.endsWith('"refusal', at);
    default:
      return false;
  }
}

const QUOTE = 0x22;

/** JSON's whitespace: space, tab, line feed, carriage return. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** Whether the quote at `at` is escaped (an odd run of backslashes before it). */
function escaped(data: string, at: number): boolean {
  let backslashes = 0;
  while (data.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
  return backslashes % 2 === 1;
}

/** The stream error of a stream that ended before `[DONE]`. */
export const CUT = 'stream ended before [DONE]';

/** What one stream event's data says; shared by the meter and the usage-chunk filter. */
export class ChunkReader {
  readonly usage = emptyUsage();
  model: string | undefined;
  streamError: string | undefined;
  /** A chunk reported usage: the counts are the stream's own. */
  usageFinal = false;
  /** Chunks read: OpenAI sends about one token a chunk. */
  private chunks = 0;
  /** Characters of generated text read: a batching server (vLLM, Ollama, a proxy) sends many tokens a chunk. */
  private generated = 0;
  /** Where the last chunk's `"choices"` was: the next one's is searched for only if elsewhere. */
  private choices = 0;

  /**
   * What a stream cut before its usage chunk is charged (see core/stream/estimated-usage.ts):
   * a token a chunk, or the text's characters over four where that is more.
   */
  get estimatedOutputTokens(): number {
    return Math.max(this.chunks, tokensOfBytes(this.generated));
  }

  /** `[DONE]` came: the stream ended as OpenAI ends a whole one. */
  done = false;

  /** Read one event's data; true when it is a usage-only chunk (no choices, only usage). */
  read(data: string): boolean {
    if (data === '') return false;
    if (data === '[DONE]') {
      this.done = true;
      return false;
    }
    this.chunks++;
    this.choices = choicesAt(data, this.choices);
    const worthParsing = this.scan(data, this.choices >= 0 ? this.choices + 9 : data.length);
    // Once the model is known, only a usage or an error chunk says anything new: the many
    // content chunks are not parsed. The test errs one way only: a look-alike costs a parse.
    if (this.model !== undefined && !worthParsing) return false;
    let chunk: WireChunk;
    try {
      chunk = JSON.parse(data) as WireChunk;
    } catch {
      return false;
    }
    if (chunk === null || typeof chunk !== 'object') return false;
    this.model ??= chunk.model;
    if (chunk.error) this.streamError = `${chunk.error.type ?? chunk.error.code ?? 'error'}: ${chunk.error.message ?? ''}`;
    if (!chunk.usage || typeof chunk.usage !== 'object') return false;
    applyOpenAIUsage(this.usage, chunk.usage);
    this.usageFinal = true;
    return Array.isArray(chunk.choices) && chunk.choices.length === 0;
  }

  /**
   * One pass over the chunk's keys: adds the generated text of the keys from `from` on to
   * the count, and says whether a key `usage` with a value other than `null` or a key
   * `error` is there (anywhere: the parse decides whether it is the chunk's own).
   */
  private scan(data: string, from: number): boolean {
    let worthParsing = false;
    let chars = 0;
    for (let colon = data.indexOf(':'); colon >= 0; colon = data.indexOf(':', colon + 1)) {
      let quote = colon - 1;
      const compact = data.charCodeAt(quote) === QUOTE;
      if (!compact) {
        // JSON allows whitespace before the colon: looked past for usage and error only, as
        // generated text is counted in compact JSON only.
        while (isSpace(data.charCodeAt(quote))) quote--;
        if (quote === colon - 1 || data.charCodeAt(quote) !== QUOTE) continue;
      }
      // A quote after a letter closes a string (inside one a quote follows a backslash), and a
      // string before a colon is a key.
      switch (data.charCodeAt(quote - 1)) {
        case 0x65: // e
          if (data.endsWith('"usage', quote) && !data.startsWith('null', colon + 1)) worthParsing = true;
          continue;
        case 0x72: // r
          if (data.endsWith('"error', quote)) worthParsing = true;
          continue;
      }
      if (!compact || quote < from || data.charCodeAt(colon + 1) !== QUOTE || !generatedKey(data, quote)) continue;
      const end = stringEnd(data, colon + 2);
      if (end < 0) break;
      chars += end - (colon + 2);
      colon = end; // past the text: its colons are not keys'
    }
    this.generated += chars;
    return worthParsing;
  }

  /** The stream ended: without `[DONE]` it was cut, and must not be audited as a whole answer. */
  end(): void {
    if (!this.done) this.streamError ??= CUT;
  }
}

/** Reads usage from an SSE chat stream the client gets unchanged. */
export class OpenAIStreamMeter implements UsageMeter {
  private readonly reader = new ChunkReader();
  private readonly sse = new SseDecoder((_event, data) => void this.reader.read(data));

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
    this.reader.end();
  }
}

/** Usage and model from a chat completion JSON body. */
const readCompletion: JsonUsageReader = (body, into) => {
  const b = body as WireChunk | null;
  if (!b || typeof b !== 'object') return;
  into.model = b.model;
  applyOpenAIUsage(into.usage, b.usage);
  if (b.usage && typeof b.usage === 'object') into.usageFinal = true;
};

const COMPLETION_HEAD = ['model'] as const;

/**
 * The same from the bytes: a chat completion opens with `id`, `object`, `created` and
 * `model`, and ends with `usage` and a few plain members (`service_tier`,
 * `system_fingerprint`), so the choices between them need not be decoded or parsed.
 */
const readCompletionShallow: ShallowUsageReader = (bytes, into) => {
  const usage = lastMemberValue(bytes, 'usage');
  if (usage === undefined || (usage !== null && typeof usage !== 'object')) return false;
  const head = leadingStrings(bytes, COMPLETION_HEAD);
  if (!head || head[0] === undefined) return false;
  into.model = head[0];
  applyOpenAIUsage(into.usage, usage as WireUsage | null);
  if (usage !== null) into.usageFinal = true;
  return true;
};

/** The meter for a non-streamed chat completion. */
export function openaiJsonMeter(): UsageMeter {
  return new JsonBodyMeter(readCompletion, readCompletionShallow);
}

/** Pick the meter for a response by its content type. */
export function openaiMeter(contentType: string | string[] | undefined): UsageMeter | undefined {
  return meterByContentType(contentType, () => new OpenAIStreamMeter(), openaiJsonMeter);
}
