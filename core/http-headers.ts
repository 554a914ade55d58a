/**
 * Header hygiene shared by every direction: hop-by-hop and HTTP/2 pseudo-headers never
 * cross the gateway, and the request id travels with every response.
 */
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Credential headers, for any provider: a client's are never forwarded, whatever the route,
 * and the gateway's own are blanked where an upstream's error quotes them (credential-echo.ts).
 */
export const CLIENT_CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-goog-api-key',
  'cookie',
]);

/** Connection-specific headers (RFC 9110 §7.6.1) plus the ones HTTP/2 forbids. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/**
 * Request headers without pseudo-headers (`:path`, `:authority` on HTTP/2). HTTP/2 clients
 * send `:authority` instead of `host`; it becomes `host` so signatures over `host` (SigV4)
 * can be checked whichever protocol carried the request.
 */
export function requestHeaders(raw: IncomingHttpHeaders): IncomingHttpHeaders {
  for (const key in raw) {
    if (key.charCodeAt(0) === 58 /* ':' */) return stripPseudo(raw);
  }
  return raw;
}

function stripPseudo(raw: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const key in raw) if (key.charCodeAt(0) !== 58) out[key] = raw[key];
  const authority = raw[':authority'];
  if (out.host === undefined && typeof authority === 'string') out.host = authority;
  return out;
}

/** Names listed in a `connection` header are hop-by-hop too. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  // The usual values name no other header: skip building a set for them.
  if (!value || value === 'keep-alive' || value === 'close') return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

/**
 * Copy `headers` without hop-by-hop or pseudo-headers, nor any (lower-case) name `skip`
 * refuses or `drop` holds; names lower-cased. One pass that only adds: deleting from the
 * copy afterwards would turn it into a slow dictionary-mode object for everything that reads it next.
 */
export function withoutHopByHop(
  headers: Record<string, string | string[] | undefined>,
  skip?: (name: string) => boolean,
  drop?: ReadonlySet<string>,
): Record<string, string | string[]> {
  const listed = connectionTokens(headers.connection ?? headers.Connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = lowerCaseName(name);
    if (HOP_BY_HOP.has(lower) || lower.charCodeAt(0) === 58 || listed?.has(lower) || skip?.(lower) || drop?.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}

const UPPER = /[A-Z]/;

/**
 * `name` lower-cased, as the same string when it already is (Node and undici hand over
 * lower-case names): V8's `toLowerCase` makes a new string even then, ~30 B a header.
 * @example
 * lowerCaseName('X-Api-Key') // 'x-api-key'
 */
export function lowerCaseName(name: string): string {
  return UPPER.test(name) ? name.toLowerCase() : name;
}

const REQUEST_ID = /^[A-Za-z0-9._:@\-]{1,128}$/;

/** The client's `x-request-id` when it is a sane token, else a fresh one. */
export function requestIdFrom(value: string | string[] | undefined, generate: () => string): string {
  return typeof value === 'string' && REQUEST_ID.test(value) ? value : generate();
}

/**
 * The first item of a header a chain of proxies may have made a list (`X-Forwarded-Host:
 * a, b`), trimmed; undefined when there is none.
 * @example
 * firstListItem(['https, http']) // 'https'
 */
export function firstListItem(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const comma = v.indexOf(',');
  return (comma < 0 ? v : v.slice(0, comma)).trim() || undefined;
}
