/**
 * Whether a state-changing dashboard request (logging out) comes from the dashboard's own
 * page, not from a form, image or script of another origin (request forgery). The session
 * cookie is SameSite=Strict, so another *site* never sends it; another origin of the same
 * site (a sibling subdomain, another port of the host) would, and is refused here. The
 * browser says where a request comes from:
 * - `Sec-Fetch-Site` (sent to HTTPS and localhost origins) must be `same-origin`;
 * - without it (plain HTTP), `Origin`, which a browser's fetch() POST always carries, must
 *   name the host the browser asked for: `Host`, or `X-Forwarded-Host` from a proxy that
 *   rewrites `Host` (a forging page can set neither header). A form POST from a page with
 *   `Referrer-Policy: no-referrer`, as the dashboard's, says `Origin: null`: refused, which
 *   is why the Log out button uses fetch().
 * A client that sends neither header is not a browser a forging page could drive (curl, a
 * script that holds the cookie), and is let through.
 */
import { firstListItem, type EndpointRequest } from '../../core/index.js';

const first = (v: string | string[] | undefined): string | undefined => firstListItem(v)?.toLowerCase();

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined; // `null` and anything else that is no URL
  }
}

export function fromOwnPage(req: EndpointRequest): boolean {
  const site = first(req.headers['sec-fetch-site']);
  if (site !== undefined) return site === 'same-origin';
  const origin = first(req.headers.origin);
  if (origin === undefined) return true;
  const host = hostOf(origin);
  return host !== undefined && (host === first(req.headers.host) || host === first(req.headers['x-forwarded-host']));
}
