/**
 * A request's way through: context → route → body → provider inspect → filter chain →
 * provider → response head (filters' onResponse) → body streamed with the usage meter
 * beside it → exactly one outcome to every filter's onComplete.
 *
 * This file is the order of those steps; what answering means is core/reply.ts, the bytes
 * written to the client core/response-write.ts, and what the request ended as
 * core/outcome.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { BodyBudget } from './body-budget.js';
import { readBody, stopReading } from './request-body.js';
import { uploadBody } from './upload-body.js';
import { Context } from './context.js';
import { GatewayError, toGatewayError } from './errors.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { requestHeaders, requestIdFrom } from './http-headers.js';
import { newRequestId } from './request-id.js';
import type { Logger } from './logger.js';
import { OutcomeRecorder } from './outcome.js';
import type { CompiledRoute, Pipeline } from './pipeline.js';
import { Replier, type Streaming } from './reply.js';
import { delivered, writeError } from './response-write.js';
import type { ProviderResponse } from './types.js';

export type GatewayRequest = IncomingMessage | Http2ServerRequest;
export type GatewayResponse = ServerResponse | Http2ServerResponse;

/** Answers gateway endpoints (`/health`, `/metrics`, …), with `x-request-id` when given one; returns false when the path is not one. */
export type OperationalHandler = (method: string, path: string, req: GatewayRequest, res: GatewayResponse, requestId: string) => boolean;

export interface HandlerDeps {
  current(): Pipeline;
  metrics: GatewayMetrics;
  log: Logger;
  /** `server.request_timeout_ms` as the listener started with it: HTTP/2 bodies are held to it here. */
  requestTimeoutMs: number;
  operational: OperationalHandler;
  /** Serves `GET <prefix>/health` for a pass-through route. */
  providerHealth(route: CompiledRoute, res: GatewayResponse, requestId: string): void;
  /** The gateway is cutting the requests its drain timeout left: a request cut now did not lose its client. */
  cutting?(): boolean;
  /** Answers `/v1/usage` once the chain resolved the caller. */
  usage(ctx: Context, route: CompiledRoute): Promise<Record<string, unknown>>;
  /** Request-body bytes held across requests (`server.max_inflight_body_bytes`); outlives pipelines. */
  bodyBudget: BodyBudget;
}

export function createHandler(deps: HandlerDeps): (req: GatewayRequest, res: GatewayResponse) => void {
  const { metrics, log, bodyBudget } = deps;
  const reply = new Replier(deps);
  const outcomes = new OutcomeRecorder(deps);

  return function handle(req, res) {
    const arrivedAt = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const headers = requestHeaders(req.headers);
    const id = requestIdFrom(headers['x-request-id'], newRequestId);
    // x-request-id goes into each response's own head: a header set ahead with setHeader
    // would put every writeHead on Node's slow path (each header re-validated one by one).
    if (deps.operational(method, path, req, res, id)) return;

    const pipeline = deps.current();
    let route: CompiledRoute;
    let subpath = '/';
    let matched = true;
    if (path === '/v1/usage') {
      route = pipeline.operational;
    } else {
      const m = pipeline.router.match(method, path, headers);
      if (m) {
        route = m.route;
        subpath = m.subpath;
        // A HEAD on the route's root is a connection probe (Claude Code preconnects with one,
        // without credentials, at every start): answered like its health, not audited.
        const probe = subpath === '/health' ? method === 'GET' || method === 'HEAD' : subpath === '/' && method === 'HEAD';
        if (probe && route.provider && route.info.mode === 'passthrough') {
          res.setHeader('x-request-id', id);
          deps.providerHealth(route, res, id);
          return;
        }
      } else {
        route = pipeline.fallback;
        matched = false;
      }
    }

    pipeline.acquire();
    metrics.inFlight.inc();
    const ctx = new Context({
      id,
      method,
      path,
      query: q < 0 ? '' : url.slice(q + 1),
      headers,
      httpVersion: req.httpVersion,
      remoteAddress: req.socket?.remoteAddress ?? '',
      encrypted: (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true,
      route: route.info,
      subpath,
      dialect: route.provider?.provider.dialectFor?.(subpath) ?? route.dialect,
      arrivedAt,
      upstream: route.upstream,
    });
    if (route.provider) ctx.kind = 'auxiliary';
    if (route.info.mode === 'operational') ctx.kind = 'operational';
    res.on('close', () => {
      if (!delivered(res)) ctx.cancellation.abort();
    });

    const end = (err: unknown): void => {
      try {
        if (err !== undefined) failed(ctx, res, err);
        route.chain.runComplete(ctx, outcomes.finish(ctx, route, res));
      } catch (thrown) {
        // Whatever failed, the request is over: it must not stay in flight or hold its pipeline.
        log.error('request completion failed unexpectedly', { request_id: ctx.id, err: thrown });
      } finally {
        bodyBudget.release(ctx);
        metrics.inFlight.dec();
        pipeline.release();
      }
    };
    // A body still streaming when serve() settles ends the request when it ends; by then
    // every async function of the way through has returned (see BodyDelivery).
    serve(ctx, route, matched, req, res).then((streaming) => (streaming ? streaming.whenDone(end) : end(undefined)), end);
  };

  function failed(ctx: Context, res: GatewayResponse, err: unknown): void {
    log.error('request failed unexpectedly', { request_id: ctx.id, err });
    ctx.error ??= toGatewayError(err);
    if (!res.headersSent) writeError(ctx, res, ctx.error);
    else res.destroy();
  }

  /** Answers the request; resolves with the delivery of a body still streaming, if any. */
  async function serve(ctx: Context, route: CompiledRoute, matched: boolean, req: GatewayRequest, res: GatewayResponse): Promise<Streaming> {
    if (!matched) return reply.sendError(ctx, route, res, new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`));
    const server = deps.current().loaded.config.server;
    const provider = route.provider?.provider;
    if (provider?.isUpload !== undefined && route.info.mode === 'passthrough' && provider.isUpload(ctx.method, ctx.subpath)) {
      // Streamed to the upstream once the chain admitted it, never held: see core/upload-body.ts.
      const upload = uploadBody(req, res, server, metrics.uploadBytes.labels(route.info.name, ctx.provider ?? 'none'));
      if (upload instanceof GatewayError) {
        stopReading(req, res);
        return reply.sendError(ctx, route, res, upload);
      }
      ctx.upload = upload;
    } else {
      try {
        ctx.body = await readBody(req, res, server.max_body_bytes, deps.requestTimeoutMs, bodyBudget, ctx);
      } catch (err) {
        if (ctx.cancellation.aborted) return;
        stopReading(req, res);
        return reply.sendError(ctx, route, res, toGatewayError(err));
      }
    }
    // network and auth refuse before anything parses the body: see Filter.beforeParse.
    const early = route.chain.beforeParse;
    if (early > 0) {
      let refusal = route.chain.runRequest(ctx, 0, early);
      if (refusal instanceof Promise) refusal = await refusal;
      if (ctx.cancellation.aborted) return;
      if (refusal) return reply.sendReply(ctx, route, res, refusal);
    }
    const unified = route.unified;
    if (unified) unified.prepare(ctx);
    else if (provider?.inspect) {
      try {
        provider.inspect(ctx);
      } catch (err) {
        return reply.sendError(ctx, route, res, reply.internalLogged(ctx, 'provider inspect failed unexpectedly', toGatewayError(err)));
      }
    }

    let verdict = route.chain.runRequest(ctx, early);
    if (verdict instanceof Promise) verdict = await verdict;
    if (ctx.cancellation.aborted) return;
    if (verdict) return reply.sendReply(ctx, route, res, verdict);

    if (route.info.mode === 'operational') {
      const body = await deps.usage(ctx, route);
      return reply.sendBuffered(ctx, route, res, { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: Buffer.from(JSON.stringify(body)) });
    }
    if (unified) {
      const refused = unified.refusal(ctx);
      if (refused) return reply.sendError(ctx, route, res, refused);
      return callProvider(ctx, route, res, () => unified.serve(ctx, route.upstream!));
    }
    if (!provider) throw new GatewayError('GW_ERR_INTERNAL', 'route has no provider');
    if (!(route.upstream?.configured ?? provider.configured)) {
      // Retrying cannot supply a key, and the SDKs would retry a 503 twice or more.
      return reply.sendError(ctx, route, res, new GatewayError('GW_ERR_PROVIDER_UNCONFIGURED', `Provider "${route.info.provider}" is not configured on this gateway (missing credentials)`, { headers: { 'x-should-retry': 'false' } }));
    }
    const passthrough = provider.passthrough;
    if (!passthrough) return reply.sendError(ctx, route, res, new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `Provider "${route.info.provider}" has no pass-through API`));
    const upstream = route.upstream;
    return callProvider(ctx, route, res, upstream ? () => upstream.passthrough(ctx) : () => passthrough.call(provider, ctx));
  }

  async function callProvider(ctx: Context, route: CompiledRoute, res: GatewayResponse, call: () => Promise<ProviderResponse>): Promise<Streaming> {
    ctx.upstreamStartedAt = performance.now();
    let upstream: ProviderResponse;
    try {
      const answer = call();
      // The provider has read the parsed request (a pass-through has written it upstream
      // already). Held across the round trip — a real provider's time to first token is
      // seconds — a large prompt's parsed text would stay on the heap per request in flight.
      ctx.releaseParsed();
      upstream = await answer;
    } catch (err) {
      ctx.upstreamEndedAt = performance.now();
      if (ctx.cancellation.aborted) return;
      const error = reply.internalLogged(ctx, 'provider call failed unexpectedly', toGatewayError(err));
      if (error.kind !== 'rejected') metrics.upstreamErrors.inc({ provider: ctx.provider ?? '', kind: error.kind });
      return reply.sendError(ctx, route, res, error);
    }
    return reply.sendProviderResponse(ctx, route, res, upstream);
  }
}
