/**
 * The compiled route table: exact paths in a Map, then prefixes in priority order
 * (explicit routes in config order, then each provider's own prefix, longest first).
 * Prefixes match whole segments: `/v1/claude` matches `/v1/claude/x`, not `/v1/claudex`.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface RouteMatcher {
  prefix?: string;
  path?: string;
  methods?: ReadonlySet<string>;
  headers?: ReadonlyArray<readonly [string, string]>;
}

export interface RouteMatch<R> {
  route: R;
  subpath: string;
}

interface Entry<R> {
  route: R;
  matcher: RouteMatcher;
}

export class Router<R> {
  private readonly exact = new Map<string, Entry<R>[]>();
  private readonly prefixes: Entry<R>[] = [];

  /** `routes` in priority order. */
  constructor(routes: ReadonlyArray<{ route: R; matcher: RouteMatcher }>) {
    for (const { route, matcher } of routes) {
      const entry = { route, matcher };
      if (matcher.path !== undefined) {
        const list = this.exact.get(matcher.path) ?? [];
        list.push(entry);
        this.exact.set(matcher.path, list);
      } else {
        this.prefixes.push(entry);
      }
    }
  }

  match(method: string, path: string, headers: IncomingHttpHeaders): RouteMatch<R> | undefined {
    const exact = this.exact.get(path);
    if (exact) {
      for (const e of exact) if (accepts(e.matcher, method, headers)) return { route: e.route, subpath: '/' };
    }
    for (const e of this.prefixes) {
      const prefix = e.matcher.prefix as string;
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      if (rest !== '' && rest[0] !== '/' && !prefix.endsWith('/')) continue;
      if (!accepts(e.matcher, method, headers)) continue;
      return { route: e.route, subpath: rest === '' ? '/' : rest[0] === '/' ? rest : '/' + rest };
    }
    return undefined;
  }
}

function accepts(m: RouteMatcher, method: string, headers: IncomingHttpHeaders): boolean {
  if (m.methods && !m.methods.has(method)) return false;
  if (m.headers) {
    for (const [name, value] of m.headers) if (headers[name] !== value) return false;
  }
  return true;
}
