/**
 * HTTP cache directives the response cache honours (RFC 9111), read only for cacheable
 * requests. A request's `no-cache`, `max-age=0` or (without `Cache-Control`) `Pragma:
 * no-cache` asks for a fresh answer: skip the lookup, store what comes back. Its
 * `no-store`: neither. An answer's `no-store` or unqualified `private` (meant for one
 * user: this cache serves many) keeps it out; `private="field"` names header fields only,
 * and none but the content type is stored.
 */

export interface RequestDirectives {
  /** Do not answer from an entry. */
  noLookup: boolean;
  /** Do not store the answer. */
  noStore: boolean;
}

/** Each directive's name (lower-cased) and its value, if any, as written. */
function* parts(header: string | string[] | undefined): Generator<[string, string | undefined]> {
  if (header === undefined) return;
  for (const line of Array.isArray(header) ? header : [header]) {
    for (const part of line.split(',')) {
      const eq = part.indexOf('=');
      const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
      if (name) yield [name, eq < 0 ? undefined : part.slice(eq + 1).trim()];
    }
  }
}

export function requestDirectives(cacheControl: string | string[] | undefined, pragma: string | string[] | undefined): RequestDirectives {
  const d = { noLookup: false, noStore: false };
  if (cacheControl === undefined) {
    // Pragma is HTTP/1.0's way; a Cache-Control present supersedes it.
    for (const [name] of parts(pragma)) if (name === 'no-cache') d.noLookup = true;
    return d;
  }
  for (const [name, value] of parts(cacheControl)) {
    if (name === 'no-cache') d.noLookup = true;
    else if (name === 'no-store') d.noStore = true;
    else if (name === 'max-age' && value !== undefined && Number(value.replace(/^"|"$/g, '')) === 0) d.noLookup = true;
  }
  if (d.noStore) d.noLookup = true;
  return d;
}

/** True when an answer's `Cache-Control` forbids a shared cache to keep it. */
export function forbidsStoring(cacheControl: string | string[] | undefined): boolean {
  for (const [name, value] of parts(cacheControl)) {
    if (name === 'no-store' || (name === 'private' && value === undefined)) return true;
  }
  return false;
}
