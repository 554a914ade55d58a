/**
 * Whether a captured 200 answer is whole, so it may be stored: an upstream that ends its
 * body cleanly but early leaves a status and a clean end that say nothing about it. A
 * dialect with a converter proves it by converting (a stream must end with its stop
 * event); OpenAI's stream must end with `data: [DONE]`; any other JSON answer must parse.
 * Runs only when an answer is about to be stored, never on an uncached request's path.
 */
import { SseDecoder } from '../../core/index.js';
import type { ResponseConverter } from './convert.js';

/** The last event's data is `[DONE]`, the terminator OpenAI sends after the final chunk. */
function endsWithDone(sse: Uint8Array): boolean {
  let last: string | undefined;
  const decoder = new SseDecoder((_name, data) => (last = data));
  decoder.push(sse);
  decoder.end();
  return last === '[DONE]';
}

/** Per dialect without a converter, how a whole stream ends; a dialect not listed has no such mark. */
const STREAM_ENDS: Readonly<Record<string, (sse: Uint8Array) => boolean>> = { openai: endsWithDone };

function parses(json: Uint8Array): boolean {
  try {
    JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

export function isWholeAnswer(dialect: string, mode: 'json' | 'sse', body: Uint8Array, converter: ResponseConverter | undefined): boolean {
  if (converter) return (mode === 'sse' ? converter.toJson(body) : converter.toSse(body)) !== undefined;
  if (mode === 'json') return parses(body);
  return Object.hasOwn(STREAM_ENDS, dialect) ? STREAM_ENDS[dialect](body) : true;
}
