/**
 * Usage for an answer that ended before its own final usage report. Counting only what was
 * reported by then would let a client read a whole answer and hang up just before its last
 * event for nearly nothing (an Anthropic stream reports its output tokens at the end, an
 * OpenAI stream all of its tokens; a non-streamed answer its `usage` among its last bytes),
 * and an upstream that cuts an answer would go uncharged while the provider bills it. So
 * rate limits, budgets, cost and the audit line get estimates instead: the output tokens
 * the meter estimates from the answer it read, and, when no input count came, the
 * request's body bytes over {@link BYTES_PER_TOKEN} (the figure the limits' admission
 * estimate uses by default). Only a generation the upstream accepted is estimated.
 */
import type { UsageMeter } from '../provider-types.js';
import { worstCaseOutputTokens } from '../token-count.js';
import type { RequestKind, TokenUsage } from '../types.js';

/** Bytes of text (or of request JSON) per token: the usual English figure. */
export const BYTES_PER_TOKEN = 4;

/** Tokens in `bytes` bytes of text, by {@link BYTES_PER_TOKEN}. */
export function tokensOfBytes(bytes: number): number {
  return bytes > 0 ? Math.ceil(bytes / BYTES_PER_TOKEN) : 0;
}

/**
 * Whether an answer may be charged estimates: a generation the upstream accepted (2xx). An
 * error answer (a 429, a 400) carries no usage because it generated nothing, and an
 * auxiliary call (a model list, a token count) generates nothing either.
 */
export function estimable(kind: RequestKind, status: number): boolean {
  return kind === 'generation' && status >= 200 && status < 300;
}

/**
 * Complete `usage` with estimates when `meter` says its final report never came; returns
 * whether it did. Reported counts are kept where they are larger. `outputCap`, the most
 * output the request allows (its token cap times its completions, when it names a cap),
 * bounds the output estimate: no answer bills more, while a byte count can read far more
 * out of JSON that carries more than text (OpenAI's `logprobs` add ~60 bytes a token for
 * each of `top_logprobs`, and bill nothing for them).
 */
export function completeUsage(usage: TokenUsage, meter: UsageMeter, requestBytes: number, outputCap?: number): boolean {
  if (meter.usageFinal !== false) return false;
  if (usage.inputTokens + usage.cacheCreationTokens + usage.cacheReadTokens === 0) usage.inputTokens = tokensOfBytes(requestBytes);
  const estimated = meter.estimatedOutputTokens ?? 0;
  const output = outputCap === undefined ? estimated : Math.min(estimated, outputCap);
  if (output > usage.outputTokens) usage.outputTokens = output;
  return true;
}

/** The most output tokens `ctx`'s request allows, or undefined when it names no cap. */
export function outputCapOf(ctx: { readonly maxOutputTokens: number | undefined; readonly outputChoices: number }): number | undefined {
  return ctx.maxOutputTokens === undefined ? undefined : worstCaseOutputTokens(ctx, 0);
}
