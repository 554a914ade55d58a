/**
 * The plugin contract's HTTP endpoints: paths a plugin serves itself, outside routes and the
 * filter chain (an admin API, a dashboard). Re-exported by types.ts.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** A request to a {@link PluginEndpoint}: read whole (bodies up to 64 KiB), headers lower-cased. */
export interface EndpointRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** True when the client's connection to the gateway is TLS (`server.tls`); a proxy in front may say so in X-Forwarded-Proto instead. */
  readonly encrypted: boolean;
}

/** What a {@link PluginEndpoint} answers. `cache-control: no-store` is added unless set. */
export interface EndpointResponse {
  status: number;
  headers?: Record<string, string>;
  body: string | Uint8Array;
}

/**
 * An HTTP endpoint served by a plugin: no route, no filter chain, no identity, not
 * audited (it is not AI traffic), so it must check its own authorization. Served on the
 * main port, or only on the operational listener when `server.admin.endpoints` lists
 * `plugins`. The current pipeline's endpoints answer, so a reload swaps them too.
 * @example
 * endpoints: [{ path: '/admin/', handle: (req) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'hi' }) }]
 */
export interface PluginEndpoint {
  /** An exact path (`/dashboard`) or, ending in `/`, a prefix (`/admin/`). */
  readonly path: string;
  handle(req: EndpointRequest): EndpointResponse | Promise<EndpointResponse>;
}
