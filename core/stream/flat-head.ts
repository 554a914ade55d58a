/**
 * Node builds an HTTP/1 response head with one `+=` per header line and keeps that string
 * (`_header`) for the response's whole life: a rope of a hundred pieces, ~3 KiB behind a
 * gateway head with its rate-limit headers, held for as long as a stream stays open. Reading
 * a character makes V8 flatten a rope in place into one ~600 B string; the pieces become
 * garbage (as `flat()` in `core/flat-string.ts` does; measured in isolation: 2,510 → 415 B
 * per 15-header head). HTTP/2 responses keep no such string.
 */
export function flattenHead(res: object): number {
  const head = (res as { _header?: unknown })._header;
  // The result is returned so no compiler can drop the read as unused.
  return typeof head === 'string' && head.length > 0 ? head.charCodeAt(head.length - 1) : -1;
}
