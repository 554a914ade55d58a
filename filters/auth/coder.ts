/**
 * Coder as the workspace directory: `GET {url}/api/v2/workspaces/{id}` with the
 * `Coder-Session-Token` header; user = `owner_name`, project = `template_name` (or the
 * configured field); only `latest_build.status == running` is accepted. Answers are
 * cached (positive and negative TTLs, 0 for none) in a cache that outlives config reloads.
 * When Coder cannot be asked, the request is refused with a 503: never an open door.
 */
import { LRUCache } from '../../core/deps/lru-cache.js';
import type { Dispatcher } from 'undici';
import { GatewayError, type Logger, type SharedState } from '../../core/index.js';
import type { WorkspaceDirectory, WorkspaceLookup } from './directory.js';

export interface CoderConfig {
  url: string;
  session_token: string;
  /** Which workspace field becomes the project. */
  project_field: 'template_name' | 'template_display_name' | 'organization_name' | 'name';
  cache_ttl_ms: number;
  negative_cache_ttl_ms: number;
  cache_max_entries: number;
  timeout_ms: number;
}

/** The fields of Coder's `codersdk.Workspace` this directory reads. */
interface CoderWorkspace {
  owner_name?: unknown;
  template_name?: unknown;
  template_display_name?: unknown;
  organization_name?: unknown;
  name?: unknown;
  latest_build?: { status?: unknown };
}

interface CoderDeps {
  upstream(origin: string): Dispatcher;
  shared: SharedState;
  log: Logger;
}

/** An answer and when Coder gave it (`Date.now()`). */
interface CachedLookup {
  readonly answer: WorkspaceLookup;
  readonly at: number;
}

export function coderDirectory(config: CoderConfig, deps: CoderDeps): WorkspaceDirectory {
  const base = new URL(config.url);
  const origin = base.origin;
  const prefix = base.pathname.replace(/\/+$/, '');
  const dispatcher = deps.upstream(origin);
  // Keyed by what changes the answer, so a reload with the same Coder keeps its warm cache.
  // The TTLs are not in the key: each entry's is given when it is set, and every read
  // ages it by this config's, so a reload that shortens them applies to all at once.
  const cache = deps.shared.get(`auth.coder-cache:${origin}${prefix}:${config.project_field}:${config.cache_max_entries}`, () =>
    new LRUCache<string, CachedLookup>({ max: config.cache_max_entries }),
  );
  const inflight = new Map<string, Promise<WorkspaceLookup>>();

  function ttlOf(answer: WorkspaceLookup): number {
    return answer.status === 'ok' ? config.cache_ttl_ms : config.negative_cache_ttl_ms;
  }

  /** The cached answer while it is younger than this config's TTL for it. */
  function cached(id: string): WorkspaceLookup | undefined {
    const hit = cache.get(id);
    return hit && Date.now() - hit.at < ttlOf(hit.answer) ? hit.answer : undefined;
  }

  function remember(id: string, answer: WorkspaceLookup): void {
    const ttl = ttlOf(answer);
    // lru-cache reads a TTL of 0 as "never expires"; here it means "do not cache".
    if (ttl > 0) cache.set(id, { answer, at: Date.now() }, { ttl });
  }

  async function fetchWorkspace(id: string): Promise<WorkspaceLookup> {
    let res: Dispatcher.ResponseData;
    try {
      res = await dispatcher.request({
        origin,
        path: `${prefix}/api/v2/workspaces/${encodeURIComponent(id)}`,
        method: 'GET',
        headers: { 'coder-session-token': config.session_token, accept: 'application/json' },
        signal: AbortSignal.timeout(config.timeout_ms),
      });
    } catch (err) {
      deps.log.warn('coder lookup failed', { err: (err as Error).message });
      throw new GatewayError('GW_ERR_UNAVAILABLE', 'The workspace directory (Coder) cannot be reached; try again shortly');
    }
    const status = res.statusCode;
    if (status === 404 || status === 400 || status === 410) {
      await res.body.dump();
      return { status: 'unknown' };
    }
    if (status !== 200) {
      await res.body.dump();
      // 401/403 here mean the gateway's own session token is wrong: an operator problem, not the caller's.
      deps.log.warn('coder lookup answered an error', { status });
      throw new GatewayError('GW_ERR_UNAVAILABLE', 'The workspace directory (Coder) answered an error; try again shortly');
    }
    let ws: CoderWorkspace;
    try {
      ws = (await res.body.json()) as CoderWorkspace;
    } catch {
      throw new GatewayError('GW_ERR_UNAVAILABLE', 'The workspace directory (Coder) sent an unreadable answer');
    }
    const state = typeof ws?.latest_build?.status === 'string' ? ws.latest_build.status : 'unknown';
    if (state !== 'running') return { status: 'inactive', state };
    if (typeof ws.owner_name !== 'string' || ws.owner_name === '') return { status: 'unknown' };
    const project = ws[config.project_field];
    return { status: 'ok', user: ws.owner_name, project: typeof project === 'string' && project !== '' ? project : undefined };
  }

  function lookup(id: string): WorkspaceLookup | Promise<WorkspaceLookup> {
    const hit = cached(id);
    if (hit) return hit;
    let pending = inflight.get(id);
    if (!pending) {
      // Concurrent first requests from one workspace share one Coder call.
      pending = fetchWorkspace(id)
        .then((answer) => {
          remember(id, answer);
          return answer;
        })
        .finally(() => inflight.delete(id));
      inflight.set(id, pending);
    }
    return pending;
  }

  return { name: 'coder', lookup, peek: cached };
}
