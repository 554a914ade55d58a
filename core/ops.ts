/**
 * Gateway endpoints that never touch a provider's API: `/health`, `/metrics`,
 * `/v1/providers`, and `<prefix>/health`. Not audited, no identity needed. With
 * `server.admin`, the chosen ones are served by a separate listener instead. Plugins'
 * own endpoints (`Filter.endpoints`) are dispatched here too, as the group `plugins`.
 */
import type { ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { OperationalEndpoint } from './config/types.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { Logger } from './logger.js';
import type { BodyBudget, BodyHolder } from './body-budget.js';
import { GatewayError } from './errors.js';
import type { GatewayResponse, GatewayRequest, OperationalHandler } from './handler.js';
import { readBody, stopReading } from './request-body.js';
import { requestHeaders } from './http-headers.js';
import type { CompiledRoute, Pipeline, ProviderSlot } from './pipeline.js';
import type { PluginEndpoint, ProviderHealth } from './types.js';

export interface OpsDeps {
  current(): Pipeline;
  metrics: GatewayMetrics;
  version: string;
  startedAt: Date;
  /** `server.request_timeout_ms` as the listener started with it: HTTP/2 bodies are held to it here. */
  requestTimeoutMs: number;
  /** True once shutdown began: `/health` then answers 503 so load balancers stop sending. */
  draining(): boolean;
  /** The `/metrics` text when this process is not the whole picture (a cluster worker asks the primary). */
  scrape?(): Promise<{ text: string; contentType: string }>;
  /** Where an endpoint's unexpected failure is told: the client gets a bare 500. */
  log?: Logger;
  /**
   * `server.max_inflight_body_bytes`, shared with the AI routes: a plugin endpoint's body
   * is small, but the operational listener caps no connections, so together they are not.
   */
  bodyBudget?: BodyBudget;
}

function sendJson(res: GatewayResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  (res as ServerResponse).writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

async function healthOf(slot: ProviderSlot): Promise<ProviderHealth> {
  if (!slot.provider.configured) return { status: 'unconfigured', detail: 'credentials missing' };
  try {
    return await slot.provider.health();
  } catch (err) {
    return { status: 'down', detail: (err as Error).message };
  }
}

const PATHS: Readonly<Record<string, Exclude<OperationalEndpoint, 'plugins'>>> = { '/health': 'health', '/metrics': 'metrics', '/v1/providers': 'providers' };
/** Largest body a plugin endpoint is handed (login forms, small JSON). */
const PLUGIN_BODY_LIMIT = 65536;

function pluginEndpoint(endpoints: readonly PluginEndpoint[], path: string): PluginEndpoint | undefined {
  return endpoints.find((e) => (e.path.endsWith('/') ? path.startsWith(e.path) : path === e.path));
}

/** The provider's own health, overridden while its circuit breaker refuses traffic, plus the circuit. */
async function effectiveHealth(p: Pipeline, slot: ProviderSlot): Promise<ProviderHealth & { circuit?: Record<string, unknown> }> {
  const own = await healthOf(slot);
  const circuit = p.resilience?.circuit(slot.name);
  if (!circuit) return own;
  if (circuit.state === 'open') return { status: 'down', detail: 'circuit breaker open', circuit };
  if (circuit.state === 'half_open' && own.status === 'ok') return { status: 'degraded', detail: 'circuit breaker half-open', circuit };
  return { ...own, circuit };
}

export function createOps(deps: OpsDeps) {
  async function health(res: GatewayResponse): Promise<void> {
    const p = deps.current();
    const providers: Record<string, unknown> = {};
    await Promise.all(
      [...p.providers.values()].map(async (slot) => {
        providers[slot.name] = { ...(await effectiveHealth(p, slot)), ...(slot.provider.diagnostic ? { diagnostic: true } : {}) };
      }),
    );
    const draining = deps.draining();
    sendJson(res, draining ? 503 : 200, {
      status: draining ? 'draining' : 'ok',
      version: deps.version,
      uptime_seconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
      config: { hash: p.hash, file: p.loaded.file, loaded_at: p.loaded.loadedAt.toISOString(), generation: p.generation },
      providers,
    });
  }

  async function providers(res: GatewayResponse): Promise<void> {
    const p = deps.current();
    const list = await Promise.all(
      [...p.providers.values()].map(async (slot) => ({
        name: slot.name,
        type: slot.type,
        route_prefix: slot.prefix,
        configured: slot.provider.configured,
        ...(await effectiveHealth(p, slot).then((h) => ({ status: h.status, circuit: h.circuit }))),
        ...(slot.provider.diagnostic ? { diagnostic: true } : {}),
        models: slot.provider.models().map((m) => m.id),
        features: slot.provider.features,
        ...(slot.provider.describe?.() ?? {}),
      })),
    );
    sendJson(res, 200, { object: 'list', providers: list });
  }

  async function metrics(res: GatewayResponse): Promise<void> {
    const { text, contentType } = deps.scrape ? await deps.scrape() : { text: await deps.metrics.registry.metrics(), contentType: deps.metrics.registry.contentType };
    (res as ServerResponse).writeHead(200, { 'content-type': contentType });
    res.end(text);
  }

  /** The cause goes to the log: its text may name a database, a host or a file the client has no business seeing. */
  function fail(res: GatewayResponse, err: unknown, path: string): void {
    deps.log?.error('endpoint failed unexpectedly', { path, err });
    if (!res.headersSent) sendJson(res, 500, { error: { code: 'GW_ERR_INTERNAL', message: 'Internal error; the gateway log has the cause' } });
    else res.destroy();
  }

  const runners: Record<Exclude<OperationalEndpoint, 'plugins'>, (res: GatewayResponse) => Promise<void>> = { health, metrics, providers };

  async function servePlugin(endpoint: PluginEndpoint, method: string, path: string, req: GatewayRequest, res: GatewayResponse): Promise<void> {
    const bodiless = method === 'GET' || method === 'HEAD';
    const holder: BodyHolder = { heldBodyBytes: 0 };
    try {
      let body: Buffer;
      try {
        body = bodiless ? Buffer.alloc(0) : await readBody(req, res, PLUGIN_BODY_LIMIT, deps.requestTimeoutMs, deps.bodyBudget, holder);
      } catch (err) {
        stopReading(req, res);
        const known = err instanceof GatewayError;
        return sendJson(res, known ? err.status : 400, { error: { code: known ? err.code : 'GW_ERR_REQUEST_INVALID', message: (err as Error).message } }, known ? err.headers : undefined);
      }
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const encrypted = (req.socket as TLSSocket | undefined)?.encrypted === true;
      const r = await endpoint.handle({ method, path, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), headers: requestHeaders(req.headers), body, encrypted });
      (res as ServerResponse).writeHead(r.status, { 'cache-control': 'no-store', ...r.headers });
      if (method === 'HEAD') res.end();
      else res.end(r.body);
    } finally {
      // The handler has had the body (it may have kept it, but that is its own memory now).
      deps.bodyBudget?.release(holder);
    }
  }

  /** Answers the endpoints `served` says yes to; the others fall through (to routing, or a 404). */
  function handlerFor(served: (endpoint: OperationalEndpoint) => boolean): OperationalHandler {
    return (method, path, req, res, requestId) => {
      const plugin = served('plugins') ? pluginEndpoint(deps.current().endpoints, path) : undefined;
      if (plugin) {
        if (requestId) res.setHeader('x-request-id', requestId);
        servePlugin(plugin, method, path, req, res).catch((err: unknown) => fail(res, err, path));
        return true;
      }
      if (method !== 'GET' && method !== 'HEAD') return false;
      const endpoint = Object.hasOwn(PATHS, path) ? PATHS[path] : undefined;
      if (!endpoint || !served(endpoint)) return false;
      if (requestId) res.setHeader('x-request-id', requestId);
      runners[endpoint](res).catch((err: unknown) => fail(res, err, path));
      return true;
    };
  }

  return {
    /** Every endpoint, on the main port (no admin listener configured). */
    operational: handlerFor(() => true),
    /** For the main port when an admin listener takes `moved`. */
    except: (moved: readonly OperationalEndpoint[]): OperationalHandler => {
      const rest = handlerFor((e) => !moved.includes(e));
      // A moved endpoint is a plain 404 here, not an unknown AI route: a misdirected scrape is not audited.
      return (method, path, req, res, requestId) => {
        if (rest(method, path, req, res, requestId)) return true;
        const endpoint = Object.hasOwn(PATHS, path) ? PATHS[path] : undefined;
        if (!endpoint || !moved.includes(endpoint)) return false;
        res.setHeader('x-request-id', requestId);
        sendJson(res, 404, { error: { code: 'GW_ERR_ROUTE_NOT_FOUND', message: `${path} is served on the operational listener`, request_id: requestId } });
        return true;
      };
    },
    /** The admin listener's whole handler: `endpoints` or a 404. */
    adminHandler(endpoints: readonly OperationalEndpoint[]): (req: GatewayRequest, res: GatewayResponse) => void {
      const serve = handlerFor((e) => endpoints.includes(e));
      return (req, res) => {
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        if (serve(req.method ?? 'GET', q < 0 ? url : url.slice(0, q), req, res, '')) return;
        sendJson(res, 404, { error: { code: 'GW_ERR_ROUTE_NOT_FOUND', type: 'not_found', message: 'Not an operational endpoint served here' } });
      };
    },
    providerHealth(route: CompiledRoute, res: GatewayResponse): void {
      const slot = route.provider!;
      effectiveHealth(deps.current(), slot)
        .then((h) => sendJson(res, h.status === 'ok' || h.status === 'degraded' ? 200 : 503, { provider: slot.name, type: slot.type, ...h, ...(slot.provider.diagnostic ? { diagnostic: true } : {}) }))
        .catch((err: unknown) => fail(res, err, `/health of ${slot.name}`));
    },
  };
}
