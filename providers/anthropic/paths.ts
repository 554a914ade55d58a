/**
 * Mapping a path under the route prefix to the upstream path, safely. Clients differ:
 * the SDKs and Claude Code send `/v1/messages`, Continue (with the seed's `apiBase`)
 * sends `/messages`, Claude Code's telemetry goes to `/api/event_logging/batch`.
 * Nothing a client sends may leave the base URL's path: dot segments (encoded or not)
 * and encoded separators are refused before anything is forwarded.
 */
import { GatewayError } from '../../core/index.js';

/** First segments that already name an API root and pass as they are. */
const ROOTS = new Set(['v1', 'api']);
/** Bare API roots that lack their `/v1` (Continue's `apiBase` ends at the prefix). */
const BARE_ROOTS = new Set(['messages', 'models', 'complete', 'files']);

/** Decoding rounds tried on each segment: double encoding (`%252e`) must not slip through. */
const DECODE_ROUNDS = 3;

function invalid(message: string): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_INVALID', message);
}

/** The segment as the upstream (or anything behind it) might decode it, however often. */
function decoded(segment: string): string {
  let s = segment;
  for (let i = 0; i < DECODE_ROUNDS && s.includes('%'); i++) {
    try {
      s = decodeURIComponent(s);
    } catch {
      throw invalid('Request path has a malformed percent-encoding');
    }
  }
  return s;
}

/**
 * The upstream path (with `?query` when there is one) for `subpath`, under `basePath`.
 * Throws 400 for a path that could escape, 404 for one outside the API's roots.
 * @example
 * upstreamPath('/messages', 'beta=true', '') // '/v1/messages?beta=true'
 */
export function upstreamPath(subpath: string, query: string, basePath: string): string {
  const kept: string[] = [];
  for (const raw of subpath.split('/')) {
    if (raw === '') continue; // `//` collapses; leading and trailing slashes are rebuilt
    const plain = decoded(raw);
    if (plain === '.' || plain === '..') throw invalid('Request path must not contain "." or ".." segments');
    if (/[/\\]/.test(plain) || /[\u0000-\u001f\u007f#]/.test(plain)) {
      throw invalid('Request path must not contain encoded slashes, backslashes or control characters');
    }
    kept.push(raw);
  }
  const first = kept[0];
  if (first === undefined) throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', 'No Anthropic API path given; try /v1/messages');
  if (!ROOTS.has(first)) {
    if (!BARE_ROOTS.has(first)) throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `Unknown Anthropic API path "/${first}"; expected /v1/…, /api/… or one of /${[...BARE_ROOTS].join(', /')}`);
    kept.unshift('v1');
  }
  const trailing = subpath.endsWith('/') ? '/' : '';
  return `${basePath}/${kept.join('/')}${trailing}${query ? `?${query}` : ''}`;
}
