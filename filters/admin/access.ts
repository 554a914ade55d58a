/**
 * Who may use the admin API and dashboard: the holder of the admin token, shown as
 * `Authorization: Bearer <token>`, or a browser session made by the dashboard's login
 * form. Tokens are compared in constant time (over their SHA-256, so lengths never leak).
 * The session cookie never carries the token: it is `<expiry>.<HMAC(token, expiry)>`,
 * HttpOnly and SameSite=Strict, so changing the token ends every session.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { EndpointRequest } from '../../core/index.js';

export const SESSION_COOKIE = 'gw_admin_session';
const SESSION_MS = 12 * 3_600_000;

/** `missing`: nothing presented (401); `wrong`: a credential that does not match (403). */
export type Access = 'ok' | 'missing' | 'wrong';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time string equality. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function cookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

export class AdminAccess {
  constructor(private readonly token: string, private readonly clock: () => number = Date.now) {}

  /** Whether `req` carries the token or a live session. */
  check(req: EndpointRequest): Access {
    const auth = req.headers.authorization;
    if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return sameSecret(auth.replace(/^bearer\s+/i, '').trim(), this.token) ? 'ok' : 'wrong';
    const session = cookies(req.headers.cookie).get(SESSION_COOKIE);
    if (session === undefined) return 'missing';
    return this.validSession(session) ? 'ok' : 'wrong';
  }

  /** The Set-Cookie value for a new session (after the login form presented the token). */
  sessionCookie(secure: boolean): string {
    const expiry = this.clock() + SESSION_MS;
    return `${SESSION_COOKIE}=${expiry}.${this.sign(expiry)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${secure ? '; Secure' : ''}`;
  }

  /** Clears the session cookie. */
  static logoutCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  private sign(expiry: number): string {
    return createHmac('sha256', this.token).update(`dashboard-session:${expiry}`).digest('hex');
  }

  private validSession(value: string): boolean {
    const dot = value.indexOf('.');
    const expiry = Number(value.slice(0, dot));
    if (dot < 0 || !Number.isFinite(expiry) || expiry < this.clock()) return false;
    return sameSecret(value.slice(dot + 1), this.sign(expiry));
  }
}
