/**
 * Google's resumable upload (`ai.files.upload()`) starts with a call answered by an
 * absolute `x-goog-upload-url` on Google's origin; the bytes are then POSTed there. The
 * JS SDK keeps that URL's path and query and puts its own base URL's scheme, host and port
 * in front; other clients call it as written. Passed through, the first would miss the
 * route prefix (a 404) and the others would leave the gateway with the client's key. So the
 * URL is made the gateway's: the client's scheme and host, the route prefix, then Google's
 * path (below the provider's base path) and query, `upload_id` included.
 */
import { firstListItem, type RequestContext } from '../../core/index.js';

/** A Host (or X-Forwarded-Host) value fit to put in a URL: name or address, optional port. */
const HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/**
 * `upstreamUrl` (an `x-goog-upload-url`) as the client reaches it through the gateway.
 * A proxy's `X-Forwarded-Proto` / `X-Forwarded-Host` are believed: the URL only goes back
 * to the client that sent them. Unreadable, it is left as it was.
 * @example
 * uploadUrlForClient('https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=U', ctx, '')
 * // 'http://ai-gateway:8090/v1/gemini/upload/v1beta/files?upload_id=U'
 */
export function uploadUrlForClient(upstreamUrl: string, ctx: RequestContext, basePath: string): string {
  let url: URL;
  try {
    url = new URL(upstreamUrl);
  } catch {
    return upstreamUrl;
  }
  const proto = firstListItem(ctx.headers['x-forwarded-proto'])?.toLowerCase();
  const scheme = proto === 'https' || proto === 'http' ? proto : ctx.encrypted ? 'https' : 'http';
  const forwardedHost = firstListItem(ctx.headers['x-forwarded-host']);
  const host = forwardedHost !== undefined && HOST.test(forwardedHost) ? forwardedHost : ctx.headers.host;
  // Without a host to name (HTTP/1.0), a path: the JS SDK puts its own origin in front, and
  // no client is sent to Google's with the gateway key it holds.
  const origin = host !== undefined && HOST.test(host) ? `${scheme}://${host}` : '';
  const below = basePath !== '' && url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length) : url.pathname;
  return `${origin}${ctx.route.prefix ?? ''}${below}${url.search}`;
}
