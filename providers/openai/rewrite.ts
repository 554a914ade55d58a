/**
 * The OpenAI provider's one body rewrite: a streamed chat request without
 * `stream_options.include_usage` gets it, so the stream ends with a usage chunk the
 * gateway can count (removed again before the client sees it, see `usage.ts`).
 */
import { TEXT_STRINGS } from '../../core/index.js';

interface StreamedBody {
  stream?: unknown;
  stream_options?: unknown;
  [field: string]: unknown;
}

/** Whether the request streams without asking for usage. */
export function needsUsageRewrite(body: StreamedBody): boolean {
  if (body.stream !== true) return false;
  const options = body.stream_options as { include_usage?: unknown } | null | undefined;
  // An array, a string or a number is the client's mistake for OpenAI to refuse, not to repair.
  if (options != null && (typeof options !== 'object' || Array.isArray(options))) return false;
  return options?.include_usage !== true;
}

const INSERT = Buffer.from('"stream_options":{"include_usage":true},');

/**
 * `raw` (the JSON object `parsed` was read from) with `include_usage` set. Without a
 * `stream_options` member the field is spliced in after the opening brace, so every
 * byte the client sent reaches the provider as sent; otherwise the object is re-serialised
 * by `serialize` (UTF-8 unless `parsed` holds its strings as bytes: `strings.serialize`).
 * @example
 * withIncludeUsage(Buffer.from('{"model":"gpt-4o","stream":true}'), { model: 'gpt-4o', stream: true })
 * // '{"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true}'
 */
export function withIncludeUsage(raw: Buffer, parsed: StreamedBody, serialize: (value: unknown) => Buffer = TEXT_STRINGS.serialize): Buffer {
  if (parsed.stream_options === undefined) {
    // JSON.parse accepted `raw` as an object, so its first `{` (after whitespace) opens it; it has a `model`, so a comma follows.
    const at = raw.indexOf(0x7b) + 1;
    return Buffer.concat([raw.subarray(0, at), INSERT, raw.subarray(at)]);
  }
  const options = typeof parsed.stream_options === 'object' && parsed.stream_options !== null ? parsed.stream_options : {};
  return serialize({ ...parsed, stream_options: { ...options, include_usage: true } });
}
