/**
 * A request's HTTP cache directives (RFC 9111), read only for cacheable requests. Its
 * `no-cache`, `max-age=0` or (without `Cache-Control`) `Pragma: no-cache` asks for a fresh
 * answer: skip the lookup, store what comes back. Its `no-store`: neither. What an answer's
 * directives allow is freshness.ts.
 */

export interface RequestDirectives {
  /** Do not answer from an entry. */
  noLookup: boolean;
  /** Do not store the answer. */
  noStore: boolean;
}

/** Each directive's name (lower-cased) and its value, if any, as written. */
export function* parts(header: string | string[] | undefined): Generator<[string, string | undefined]> {
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
