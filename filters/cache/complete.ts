/**
 * Whether a captured 200 answer is whole, so it may be stored: an upstream that ends its
 * body cleanly but early leaves a status and a clean end that say nothing about it. The
 * route's dialect proves it: by converting (`cacheConverter`: a stream must end with its
 * stop event) or by its `isWholeStream`; a dialect that declares neither has its streams
 * left unstored. Any other JSON answer must parse.
 * Runs only when an answer is about to be stored, never on an uncached request's path.
 */
import type { Dialect } from '../../core/index.js';

function parses(json: Uint8Array): boolean {
  try {
    JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

export function isWholeAnswer(dialect: Pick<Dialect, 'cacheConverter' | 'isWholeStream'>, mode: 'json' | 'sse', body: Uint8Array): boolean {
  const converter = dialect.cacheConverter;
  if (converter) return (mode === 'sse' ? converter.toJson(body) : converter.toSse(body)) !== undefined;
  if (mode === 'json') return parses(body);
  // No proof of the end: a stream the upstream cut early would be served to everyone as whole.
  return dialect.isWholeStream?.(body) === true;
}
