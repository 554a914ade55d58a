/**
 * Which agent session a request belongs to, where the client says: a configured header,
 * Claude Code's `X-Claude-Code-Session-Id`, or the session part of Anthropic's
 * `metadata.user_id` (Claude Code sent `user_<hash>_account_<uuid>_session_<uuid>`; 2.1.x
 * sends a JSON object in the string, `{"device_id":…,"account_uuid":…,"session_id":…}`).
 * Resolved once per request and kept on the context; the `cost` filter resolves it with
 * its configured headers before anything else asks.
 */
import { createKey, type JsonReads, type RequestContext } from '../../core/index.js';

/** Headers tried first to last when no filter configured others. */
export const DEFAULT_SESSION_HEADERS: readonly string[] = ['x-claude-code-session-id'];

const SESSION = createKey<{ id: string | null }>('cost.session');
const MAX_LENGTH = 128;
const USER_ID_SESSION = /_session_([A-Za-z0-9-]{8,64})$/;

function clean(value: string | undefined): string | null {
  if (!value) return null;
  const v = value.trim();
  // Bounded and printable: it lands in logs, store keys and the ledger.
  return v !== '' && v.length <= MAX_LENGTH && /^[\x21-\x7e]+$/.test(v) ? v : null;
}

const METADATA_SESSION = createKey<{ id: string | null }>('cost.session-metadata');

/**
 * Read the body's `metadata.user_id` session now and keep it on the context: core drops
 * the parsed body once a streamed answer begins, and a filter that decides the session
 * only at completion (the audit line) would otherwise parse the request again. Which
 * session wins is still decided by {@link sessionOf}'s first call.
 */
export function noteMetadataSession(ctx: RequestContext): void {
  if (!ctx.get(METADATA_SESSION)) ctx.set(METADATA_SESSION, { id: parseMetadataSession(ctx) });
}

function fromMetadata(ctx: RequestContext): string | null {
  // A noted null is an answer too: parsing again would re-read a body core already let go.
  const noted = ctx.get(METADATA_SESSION);
  return noted ? noted.id : parseMetadataSession(ctx);
}

/** Claude Code's `metadata.user_id`, which carries the session. */
const METADATA_USER_ID: JsonReads = { members: { metadata: { members: { user_id: { text: true } } } } };

function parseMetadataSession(ctx: RequestContext): string | null {
  if (ctx.kind !== 'generation' || ctx.body.length === 0) return null;
  let body: unknown;
  try {
    // The session id alone (ASCII, and matched as such): the prompt is neither decoded nor built for it.
    body = ctx.jsonPick(METADATA_USER_ID);
  } catch {
    return null;
  }
  const userId = (body as { metadata?: { user_id?: unknown } } | null)?.metadata?.user_id;
  if (typeof userId !== 'string') return null;
  if (userId.startsWith('{')) return jsonUserIdSession(userId);
  return USER_ID_SESSION.exec(userId)?.[1] ?? null;
}

function jsonUserIdSession(userId: string): string | null {
  // Bounded before parsing: the field is the client's, and only its session id is wanted.
  if (userId.length > 1024) return null;
  try {
    const id = (JSON.parse(userId) as { session_id?: unknown } | null)?.session_id;
    return typeof id === 'string' && /^[A-Za-z0-9-]{8,64}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

/**
 * The request's session id, or null. The first call decides; later calls (with other
 * header lists) get the same answer.
 * @example
 * sessionOf(ctx, ['x-agent-session']) // 'f3b1…' or null
 */
export function sessionOf(ctx: RequestContext, headers: readonly string[] = DEFAULT_SESSION_HEADERS): string | null {
  const known = ctx.get(SESSION);
  if (known) return known.id;
  let id: string | null = null;
  for (const h of headers) {
    const raw = ctx.headers[h];
    id = clean(Array.isArray(raw) ? raw[0] : raw);
    if (id) break;
  }
  id ??= fromMetadata(ctx);
  ctx.set(SESSION, { id });
  return id;
}
