/**
 * What every provider's unified-endpoint `chat()` shares: clean request headers with only
 * opted-in client headers, completion ids, a meter that reports a translator's usage, a
 * body that yields translated bytes as each upstream chunk arrives (also the OpenAI
 * pass-through's, whose usage filter rewrites a stream's bytes), and error answers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { GeneratedBody, newHexId, SourceMeter, type ProviderResponse, type UsageMeter, type UsageSource } from '../../core/index.js';

/**
 * Headers for a translated call: the client's are OpenAI's and mean nothing upstream, so it
 * starts from `base` and copies only the opted-in (lower-cased) names.
 */
export function chatHeaders(incoming: IncomingHttpHeaders, forward: readonly string[], base: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...base };
  for (const name of forward) {
    const value = incoming[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

/** A fresh `chatcmpl-…` id and creation second for one completion. */
export function completionIds(): { id: string; created: number } {
  return { id: `chatcmpl-${newHexId()}`, created: Math.floor(Date.now() / 1000) };
}

/** Usage known in full, or read live from a translator; core feeds it the translated bytes, which it ignores. */
export function meterOf(source: UsageSource): UsageMeter {
  return new SourceMeter(source);
}

/** A stream translator: bytes in, translated bytes out, a tail at the end. */
export interface ByteTranslator {
  write(chunk: Uint8Array): Uint8Array;
  end(): Uint8Array;
}

/** The upstream body translated chunk by chunk (never buffered); `destroy` frees the upstream. */
export function translatedBody(upstream: AsyncIterable<Uint8Array> & { destroy?: () => void }, t: ByteTranslator): AsyncIterable<Uint8Array> & { destroy: () => void } {
  return new GeneratedBody(translate(upstream, t), () => upstream.destroy?.());
}

async function* translate(upstream: AsyncIterable<Uint8Array>, t: ByteTranslator): AsyncGenerator<Uint8Array> {
  for await (const chunk of upstream) {
    const out = t.write(chunk);
    if (out.length > 0) yield out;
  }
  const tail = t.end();
  if (tail.length > 0) yield tail;
}

export const SSE_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/** An OpenAI-shaped error answer from a translator's error mapping. */
export function errorAnswer(error: { status: number; headers: Record<string, string>; body: unknown }): ProviderResponse {
  return { status: error.status, headers: { 'content-type': 'application/json', ...error.headers }, body: Buffer.from(JSON.stringify(error.body)) };
}
