/**
 * Where workspaces are looked up: the config's static `workspaces:` map, or Coder.
 * A lookup answers known-and-usable, unknown, or known-but-not-running.
 */

/** A directory's answer about one workspace id. */
export type WorkspaceLookup =
  | { readonly status: 'ok'; readonly user: string; readonly project?: string }
  | { readonly status: 'unknown' }
  /** Known but not usable now (a stopped Coder workspace); `state` says why. */
  | { readonly status: 'inactive'; readonly state: string };

export interface WorkspaceDirectory {
  /** `static` or `coder`, for logs and `/v1/usage`. */
  readonly name: string;
  /** Resolve a workspace; may throw a 503 `GatewayError` when the directory is unreachable. */
  lookup(workspaceId: string): WorkspaceLookup | Promise<WorkspaceLookup>;
  /** A synchronous answer when one is at hand (static map, cache hit); never does I/O. */
  peek(workspaceId: string): WorkspaceLookup | undefined;
}

export function staticDirectory(workspaces: Readonly<Record<string, { user: string; project?: string }>> | undefined): WorkspaceDirectory {
  const map = new Map<string, WorkspaceLookup>();
  for (const [id, w] of Object.entries(workspaces ?? {})) map.set(id, { status: 'ok', user: w.user, project: w.project });
  const unknown: WorkspaceLookup = { status: 'unknown' };
  const peek = (id: string): WorkspaceLookup => map.get(id) ?? unknown;
  return { name: 'static', lookup: peek, peek };
}
