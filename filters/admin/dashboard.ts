/**
 * `/dashboard`: a static page (top-level `dashboard/`) and its assets, with uPlot served
 * from the package's own dependency, so nothing is fetched from outside at run time (the
 * Content-Security-Policy says so to the browser too). Unauthenticated visitors get the
 * login form; posting the admin token sets an HttpOnly session cookie; a POST to
 * `/dashboard/logout` from the page itself ends the session.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { EndpointRequest, EndpointResponse, Logger, PluginEndpoint } from '../../core/index.js';
import { packageRoot } from '../../core/package-root.js';
import { AdminAccess } from './access.js';
import { fromOwnPage } from './same-origin.js';

const require = createRequire(import.meta.url);
const DIR = path.join(packageRoot, 'dashboard');
const UPLOT = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Asset name → file and type; nothing else under /dashboard/assets/ is served. A Map, not
 * an object literal: a visitor's name (`constructor`, `__proto__`) must not find
 * Object.prototype's members.
 */
const ASSETS: ReadonlyMap<string, readonly [string, string]> = new Map([
  ['dashboard.js', [path.join(DIR, 'dashboard.js'), 'text/javascript; charset=utf-8']],
  ['dashboard.css', [path.join(DIR, 'dashboard.css'), 'text/css; charset=utf-8']],
  ['uPlot.iife.min.js', [path.join(UPLOT, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8']],
  ['uPlot.min.css', [path.join(UPLOT, 'uPlot.min.css'), 'text/css; charset=utf-8']],
]);

function page(file: string, status: number, replace: Record<string, string> = {}, headers: Record<string, string> = {}): EndpointResponse {
  let html = readFileSync(path.join(DIR, file), 'utf8');
  for (const [k, v] of Object.entries(replace)) html = html.replace(k, v);
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', ...headers }, body: html };
}

function login(status: number, message = ''): EndpointResponse {
  return page('login.html', status, { '<!--MESSAGE-->': message ? `<p class="error">${message}</p>` : '' });
}

function redirect(to: string, cookie: string): EndpointResponse {
  return { status: 303, headers: { location: to, 'set-cookie': cookie }, body: '' };
}

/**
 * Whether the browser reached the gateway over HTTPS: its own TLS, or a TLS-terminating
 * proxy's `X-Forwarded-Proto: https`. Anyone may send that header, but it can only add
 * `Secure`, which makes the cookie stricter, never take it away.
 */
function secure(req: EndpointRequest): boolean {
  return req.encrypted || req.headers['x-forwarded-proto'] === 'https';
}

/** The dashboard's endpoints, guarded by `access`. */
export function dashboardEndpoint(access: AdminAccess, log: Logger): PluginEndpoint[] {
  const handle = async (req: EndpointRequest): Promise<EndpointResponse> => {
    if (req.path.startsWith('/dashboard/assets/')) {
      const asset = ASSETS.get(req.path.slice('/dashboard/assets/'.length));
      if (!asset) return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found' };
      return { status: 200, headers: { 'content-type': asset[1], 'cache-control': 'private, max-age=300', 'x-content-type-options': 'nosniff' }, body: readFileSync(asset[0]) };
    }
    if (req.path === '/dashboard/login' && req.method === 'POST') {
      const presented = new URLSearchParams(req.body.toString('utf8')).get('token') ?? '';
      const ok = presented !== '' && access.isToken(presented.trim());
      if (!ok) return login(403, 'Wrong admin token.');
      return redirect('/dashboard', access.sessionCookie(secure(req)));
    }
    if (req.path === '/dashboard/logout') {
      // Not GET: any page could end the session with <img src=…/logout>.
      if (req.method !== 'POST') return { status: 405, headers: { 'content-type': 'text/plain', allow: 'POST' }, body: 'Log out with POST (the dashboard\'s Log out button)' };
      if (!fromOwnPage(req)) return { status: 403, headers: { 'content-type': 'text/plain' }, body: 'Logging out is only possible from the dashboard\'s own page' };
      // The browser forgets the cookie either way; the session is ended here for any copy of it.
      await access.logout(req).catch((err: unknown) => log.warn('dashboard logout not recorded in the shared store; it holds on this process only', { err }));
      return redirect('/dashboard', AdminAccess.logoutCookie(secure(req)));
    }
    if (req.path !== '/dashboard' && req.path !== '/dashboard/') return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found' };
    const granted = await access.check(req);
    if (granted === 'missing') return login(401);
    if (granted === 'wrong') return login(403, 'Your session has expired or the token is wrong.');
    return page('index.html', 200);
  };
  return [{ path: '/dashboard', handle }, { path: '/dashboard/', handle }];
}
