/**
 * `auth`: resolves who is asking (workspace → user, project) and refuses requests with no
 * usable identity. Proof is a workspace key (HMAC, see `keys.ts`) in any place an SDK puts
 * its API key, a SigV4 signature made with the workspace id and key as AWS credentials
 * (`sigv4.ts`), or, unless `require_keys` is set, the `X-Workspace-ID` header alone.
 * Missing identity → 401, unknown or stopped workspace → 403, directory down → 503; all
 * rendered in the route's dialect. Key material is never logged or echoed.
 */
import { CONTINUE, GatewayError, createKey, reply, type Filter, type FilterPlugin, type FilterVerdict, type Identity, type PluginEnv, type RequestContext } from '../../core/index.js';
import { coderDirectory, type CoderConfig } from './coder.js';
import { claimedWorkspace, presentedCredentials } from './credentials.js';
import { staticDirectory, type WorkspaceDirectory, type WorkspaceLookup } from './directory.js';
import { isWorkspaceKey, keySecret, makeWorkspaceKey, MIN_SECRET_LENGTH, verifyWorkspaceKey } from './keys.js';
import { isSigV4, MAX_ACCESS_KEY_ID_LENGTH, parseSigV4, verifySigV4 } from './sigv4.js';

export interface AuthConfig {
  /** Where workspaces are looked up: the top-level `workspaces:` map, or Coder's API. */
  source: 'static' | 'coder';
  /** Refuse header-only identity: anyone who can reach the gateway can send any header. */
  require_keys: boolean;
  /** HMAC secret workspace keys are derived from, surrounding whitespace ignored; empty disables keys. */
  key_secret: string;
  /** Header carrying the workspace id (the seed's way). */
  workspace_header: string;
  coder?: CoderConfig;
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    source: { enum: ['static', 'coder'], default: 'static' },
    require_keys: { type: 'boolean', default: false },
    key_secret: { type: 'string', default: '' },
    workspace_header: { type: 'string', pattern: '^[A-Za-z0-9-]+$', default: 'x-workspace-id' },
    coder: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'session_token'],
      properties: {
        url: { type: 'string', pattern: '^https?://' },
        session_token: { type: 'string' },
        project_field: { enum: ['template_name', 'template_display_name', 'organization_name', 'name'], default: 'template_name' },
        cache_ttl_ms: { type: 'integer', minimum: 0, default: 60000 },
        negative_cache_ttl_ms: { type: 'integer', minimum: 0, default: 10000 },
        cache_max_entries: { type: 'integer', minimum: 1, default: 10000 },
        timeout_ms: { type: 'integer', minimum: 1, default: 3000 },
      },
    },
  },
};

/** Workspace keys remembered once proven, per filter instance (so per `key_secret`). */
const VERIFIED_KEYS_MAX = 10_000;

/** Answers remembered per key, at most {@link VERIFIED_KEYS_MAX}, all dropped when full. */
interface Remembered<V> {
  get(key: string): V | undefined;
  remember(key: string, value: V): void;
}

function remembered<V>(): Remembered<V> {
  const known = new Map<string, V>();
  return {
    get: (key) => known.get(key),
    remember(key, value) {
      if (known.size >= VERIFIED_KEYS_MAX) known.clear();
      known.set(key, value);
    },
  };
}

/** Set when this filter's `onRequest` ran, so `onComplete` knows whether to attribute. */
const SEEN = createKey<true>('auth.seen');

/** Who a request claims to be before the directory is asked. */
type Claim = { ok: true; workspace: string; source: 'key' | 'sigv4' | 'header' } | { ok: false; error: GatewayError };

/**
 * An identity refusal is final: asking again with the same credentials cannot succeed.
 * `x-should-retry: false` tells the Anthropic and OpenAI SDKs so; Claude Code retried a
 * bare 401 ten times over minutes before giving up. (A 503 from the directory stays retryable.)
 */
function refusal(code: string, message: string): GatewayError {
  return new GatewayError(code, message, { headers: { 'x-should-retry': 'false' } });
}

function denied(code: string, message: string): Claim {
  return { ok: false, error: refusal(code, message) };
}

function createAuth(config: AuthConfig, env: PluginEnv): Filter {
  const header = config.workspace_header.toLowerCase();
  const secret = keySecret(config.key_secret);
  // A secret of only whitespace is a mistake, not "keys disabled": only '' disables them.
  if (config.key_secret !== '' && secret.length < MIN_SECRET_LENGTH) throw new Error(`key_secret must be at least ${MIN_SECRET_LENGTH} characters (or empty to disable workspace keys)`);
  if (config.require_keys && secret === '') throw new Error('require_keys is true but key_secret is empty: set key_secret (e.g. ${AI_GATEWAY_KEY_SECRET})');
  let directory: WorkspaceDirectory;
  if (config.source === 'coder') {
    if (!config.coder) throw new Error('source is "coder" but the "coder" section (url, session_token) is missing');
    if (!config.coder.session_token) throw new Error('coder.session_token is empty');
    directory = coderDirectory(config.coder, { upstream: (o) => env.upstream(o), shared: env.shared, log: env.log });
  } else {
    directory = staticDirectory(env.config.workspaces);
  }

  // A client sends the same key on every request: its MAC is checked once, not each time
  // (an HMAC costs ~3 µs). Only keys that verified are kept, so nobody can fill this with
  // guesses; a new key_secret is a new filter instance with empty maps, which keeps
  // "rotating the secret revokes every key" true at the reload.
  const keyWorkspaces = remembered<string>();
  function keyWorkspace(key: string): string | undefined {
    const known = keyWorkspaces.get(key);
    if (known !== undefined) return known;
    const workspace = verifyWorkspaceKey(secret, key);
    if (workspace !== undefined) keyWorkspaces.remember(key, workspace);
    return workspace;
  }
  // The key a SigV4 client signs with, by its access key id (the workspace id). Anyone can
  // name any id, so it is remembered only once a signature made with it verified.
  const signingKeys = remembered<string>();

  /** A SigV4-signed request, verified with the workspace key its access key id names. */
  async function sigv4Claim(ctx: RequestContext, authorization: string, claimed: string | undefined): Promise<Claim> {
    const auth = parseSigV4(authorization);
    if (!auth) return denied('GW_ERR_AUTH_SIGNATURE', 'Malformed AWS4-HMAC-SHA256 authorization header');
    const id = auth.accessKeyId;
    if (id.length > MAX_ACCESS_KEY_ID_LENGTH) return denied('GW_ERR_AUTH_SIGNATURE', `The access key id is longer than ${MAX_ACCESS_KEY_ID_LENGTH} characters`);
    const known = signingKeys.get(id);
    let workspaceKey: string;
    try {
      workspaceKey = known ?? makeWorkspaceKey(secret, id);
    } catch {
      return denied('GW_ERR_AUTH_INVALID', 'The access key id is not a workspace id');
    }
    const problem = await verifySigV4(ctx, auth, workspaceKey);
    if (problem) return denied('GW_ERR_AUTH_SIGNATURE', problem);
    if (known === undefined) signingKeys.remember(id, workspaceKey);
    if (claimed !== undefined && claimed !== auth.accessKeyId) return denied('GW_ERR_AUTH_FORBIDDEN', `The ${config.workspace_header} header names another workspace than the signing credentials`);
    return { ok: true, workspace: auth.accessKeyId, source: 'sigv4' };
  }

  /** Who the request claims to be; SigV4 needs hashing, so `sync` callers skip it. */
  function claim(ctx: RequestContext, sync = false): Claim | Promise<Claim> {
    const claimed = claimedWorkspace(ctx, header);
    const authorization = ctx.headers.authorization;
    // Without a key secret no workspace can sign, and the signature is not ours to judge.
    if (secret !== '' && isSigV4(authorization)) {
      return sync ? denied('GW_ERR_AUTH_SIGNATURE', 'not verified') : sigv4Claim(ctx, authorization, claimed);
    }
    for (const cred of presentedCredentials(ctx)) {
      // Other tokens (a placeholder ANTHROPIC_API_KEY, say) are not ours to judge.
      if (!isWorkspaceKey(cred.value)) continue;
      const workspace = secret === '' ? undefined : keyWorkspace(cred.value);
      if (workspace === undefined) return denied('GW_ERR_AUTH_INVALID', `Invalid workspace key (in ${cred.place})`);
      if (claimed !== undefined && claimed !== workspace) return denied('GW_ERR_AUTH_FORBIDDEN', `The ${config.workspace_header} header names another workspace than the workspace key`);
      return { ok: true, workspace, source: 'key' };
    }
    if (config.require_keys) {
      return denied('GW_ERR_AUTH_MISSING', claimed ? 'A workspace key is required; the workspace header alone is not accepted' : 'A workspace key is required (x-api-key, Authorization: Bearer, x-goog-api-key, ?key= or an AWS SigV4 signature)');
    }
    if (claimed === undefined) return denied('GW_ERR_AUTH_MISSING', `Identify the workspace with the ${config.workspace_header} header or a workspace key`);
    return { ok: true, workspace: claimed, source: 'header' };
  }

  function admit(ctx: RequestContext, c: { workspace: string; source: string }, found: WorkspaceLookup): FilterVerdict {
    if (found.status === 'unknown') return reply(refusal('GW_ERR_AUTH_FORBIDDEN', `Workspace "${c.workspace}" is not known to this gateway`));
    if (found.status === 'inactive') return reply(refusal('GW_ERR_AUTH_FORBIDDEN', `Workspace "${c.workspace}" is not running (${found.state})`));
    ctx.identity = identity(c, found);
    return CONTINUE;
  }

  function decide(ctx: RequestContext, c: Claim): FilterVerdict | Promise<FilterVerdict> {
    if (!c.ok) return reply(c.error);
    const found = directory.lookup(c.workspace);
    if (found instanceof Promise) return found.then((f) => admit(ctx, c, f));
    return admit(ctx, c, found);
  }

  return {
    // Reads the headers, the peer and (SigV4) the body's bytes, never what is parsed from them.
    beforeParse: true,
    onRequest(ctx) {
      ctx.set(SEEN, true);
      const c = claim(ctx);
      return c instanceof Promise ? c.then((settled) => decide(ctx, settled)) : decide(ctx, c);
    },
    // Requests refused before the chain (404, 413) never met onRequest; name who sent them
    // for the audit line when that needs no I/O. Never admits anything.
    onComplete(ctx) {
      if (ctx.identity || ctx.get(SEEN)) return;
      const c = claim(ctx, true) as Claim;
      if (!c.ok) return;
      const found = directory.peek(c.workspace);
      if (found?.status === 'ok') ctx.identity = identity(c, found);
    },
  };
}

function identity(c: { workspace: string; source: string }, found: { user: string; project?: string }): Identity {
  return found.project === undefined ? { user: found.user, workspace: c.workspace, source: c.source } : { user: found.user, workspace: c.workspace, project: found.project, source: c.source };
}

const auth: FilterPlugin<AuthConfig> = {
  name: 'auth',
  apiVersion: 1,
  configSchema,
  create: createAuth,
};
export default auth;
