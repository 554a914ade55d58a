/**
 * Mapping a path under the route prefix to the upstream path, safely. Clients differ:
 * the SDKs and Claude Code send `/v1/messages`, Continue (with the seed's `apiBase`)
 * sends `/messages`, Claude Code's telemetry goes to `/api/event_logging/batch`.
 * Nothing a client sends may leave the base URL's path: dot segments (encoded or not)
 * and encoded separators are refused before anything is forwarded.
 */
import { GatewayError, withoutKey } from '../../core/index.js';
import { checkedSegments } from '../common/paths.js';

/** First segments that already name an API root and pass as they are. */
const ROOTS = new Set(['v1', 'api']);
/** Bare API roots that lack their `/v1` (Continue's `apiBase` ends at the prefix). */
const BARE_ROOTS = new Set(['messages', 'models', 'complete', 'files']);

/**
 * The upstream path (with `?query` when there is one) for `subpath`, under `basePath`.
 * Throws 400 for a path that could escape, 404 for one outside the API's roots.
 * @example
 * upstreamPath('/messages', 'beta=true', '') // '/v1/messages?beta=true'
 */
export function upstreamPath(subpath: string, query: string, basePath: string): string {
  const kept = checkedSegments(subpath);
  const first = kept[0];
  if (first === undefined) throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', 'No Anthropic API path given; try /v1/messages');
  if (!ROOTS.has(first)) {
    if (!BARE_ROOTS.has(first)) throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `Unknown Anthropic API path "/${first}"; expected /v1/…, /api/… or one of /${[...BARE_ROOTS].join(', /')}`);
    kept.unshift('v1');
  }
  const trailing = subpath.endsWith('/') ? '/' : '';
  const q = withoutKey(query);
  return `${basePath}/${kept.join('/')}${trailing}${q ? `?${q}` : ''}`;
}
