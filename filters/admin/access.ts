/**
 * Who may use the admin API and dashboard: the holder of the admin token, shown as
 * `Authorization: Bearer <token>`, or a browser session made by the dashboard's login
 * form. Tokens are compared in constant time (over their SHA-256, so lengths never leak).
 * The session cookie never carries the token: it is `<expiry>.<HMAC(token, expiry)>`,
 * HttpOnly and SameSite=Strict, so changing the token ends every session. Logging out
 * ends one: it is remembered until its expiry ({@link EndedSessions}).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { EndpointRequest, Store } from '../../core/index.js';
import type { EndedSessions } from './sessions.js';

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
  /**
   * @param ended logged-out sessions (the runtime's, shared by every generation)
   * @param store where they are also kept for other workers and replicas (the Redis store), if anywhere
   */
  constructor(
    private readonly token: string,
    private readonly ended: EndedSessions,
    private readonly store: Store | undefined,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether `presented` is the admin token. */
  isToken(presented: string): boolean {
    return sameSecret(presented, this.token);
  }

  /** Whether `req` carries the token or a live session (one not logged out: asks the shared store, if any). */
  check(req: EndpointRequest): Access | Promise<Access> {
    const auth = req.headers.authorization;
    if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return this.isToken(auth.replace(/^bearer\s+/i, '').trim()) ? 'ok' : 'wrong';
    const value = cookies(req.headers.cookie).get(SESSION_COOKIE);
    if (value === undefined) return 'missing';
    const session = this.session(value);
    if (!session) return 'wrong';
    const ended = this.ended.has(session.id, this.store);
    return ended instanceof Promise ? ended.then((e) => (e ? 'wrong' : 'ok')) : ended ? 'wrong' : 'ok';
  }

  /** Ends the live session `req` carries, if it carries one. */
  async logout(req: EndpointRequest): Promise<void> {
    const value = cookies(req.headers.cookie).get(SESSION_COOKIE);
    const session = value === undefined ? undefined : this.session(value);
    if (session) await this.ended.end(session.id, session.expiry, this.store);
  }

  /** The Set-Cookie value for a new session (after the login form presented the token). */
  sessionCookie(secure: boolean): string {
    const expiry = this.clock() + SESSION_MS;
    return `${SESSION_COOKIE}=${expiry}.${this.sign(expiry)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${secure ? '; Secure' : ''}`;
  }

  /** Clears the session cookie. */
  static logoutCookie(secure: boolean): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  }

  private sign(expiry: number): string {
    return createHmac('sha256', this.token).update(`dashboard-session:${expiry}`).digest('hex');
  }

  /** A cookie value's session when it is valid and unexpired; its id names it without being a credential. */
  private session(value: string): { id: string; expiry: number } | undefined {
    const dot = value.indexOf('.');
    const expiry = Number(value.slice(0, dot));
    if (dot < 0 || !Number.isFinite(expiry) || expiry < this.clock()) return undefined;
    const signature = value.slice(dot + 1);
    if (!sameSecret(signature, this.sign(expiry))) return undefined;
    return { id: createHash('sha256').update(signature).digest('hex').slice(0, 32), expiry };
  }
}
