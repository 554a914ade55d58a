/**
 * HTTP cache directives the response cache honours (RFC 9111), read only for cacheable
 * requests. A request's `no-cache`, `max-age=0` or (without `Cache-Control`) `Pragma:
 * no-cache` asks for a fresh answer: skip the lookup, store what comes back. Its
 * `no-store`: neither. An answer's `no-store`, unqualified `private` (meant for one
 * user: this cache serves many) or unqualified `no-cache` (storable, but never to be served
 * without revalidating, which a generation cannot be) keeps it out; `private="field"` and
 * `no-cache="field"` name header fields only, and none but the content type is stored.
 * An event stream's `no-cache` is the convention every SSE server follows (it keeps
 * proxies from holding a live stream back: the upstreams and the gateway's own translated
 * streams send it on every stream), not a word about the content, so there it is not read.
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

/** True when an answer's `Cache-Control` forbids a shared cache to keep (or serve) it; `stream`: an event stream. */
export function forbidsStoring(cacheControl: string | string[] | undefined, stream: boolean): boolean {
  for (const [name, value] of parts(cacheControl)) {
    if (name === 'no-store' || (value === undefined && (name === 'private' || (name === 'no-cache' && !stream)))) return true;
  }
  return false;
}
