/**
 * For a dialect's `isRefusal`: whether any JSON object of a whole answer passes a test.
 * The objects are the body (each element, when it is an array: Gemini's streamed JSON) or,
 * for an event stream, each event's `data`. `hints` are byte strings one of which a
 * matching answer must contain: most answers are no refusal, and are passed over without
 * parsing. Runs only when the response cache is about to store an answer.
 */
import { SseDecoder } from './stream/sse.js';

export type AnswerObject = Record<string, unknown>;

function visit(value: unknown, test: (o: AnswerObject) => boolean): boolean {
  if (Array.isArray(value)) return value.some((v) => visit(v, test));
  return typeof value === 'object' && value !== null && test(value as AnswerObject);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function anyAnswerObject(body: Uint8Array, mode: 'json' | 'sse', hints: readonly string[], test: (o: AnswerObject) => boolean): boolean {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (!hints.some((h) => bytes.includes(h, 0, 'latin1'))) return false;
  if (mode === 'json') return visit(parse(bytes.toString('utf8')), test);
  let found = false;
  const decoder = new SseDecoder((_name, data) => {
    if (!found && hints.some((h) => data.includes(h))) found = visit(parse(data), test);
  });
  decoder.push(bytes);
  decoder.end();
  return found;
}

/** Member `name` of `value` when it is an object, else undefined: for reading nested members of an answer. */
export function member(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as AnswerObject)[name] : undefined;
}
