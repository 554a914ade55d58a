/**
 * A request's way through: context → route → body → provider inspect → filter chain →
 * provider → response head (filters' onResponse) → body streamed with the usage meter
 * beside it → exactly one outcome to every filter's onComplete.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { BodyBudget } from './body-budget.js';
import { readBody, stopReading } from './request-body.js';
import { uploadBody } from './upload-body.js';
import { BodyDelivery } from './stream/delivery.js';
import { flattenHead } from './stream/flat-head.js';
import { release } from './stream/pump.js';
import { Context } from './context.js';
import { GatewayError, toGatewayError } from './errors.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { requestHeaders, requestIdFrom, withoutHopByHop } from './http-headers.js';
import { newRequestId } from './request-id.js';
import { zeroInvalidCounts } from './token-count.js';
import type { Logger } from './logger.js';
import type { CompiledRoute, Pipeline } from './pipeline.js';
import type { Outcome, ProviderResponse, ReplyVerdict, ResponseHead } from './types.js';

export type GatewayRequest = IncomingMessage | Http2ServerRequest;
export type GatewayResponse = ServerResponse | Http2ServerResponse;

/** What answering a request leaves running: the delivery of a provider's answer (perhaps still streaming), or nothing. */
type Streaming = BodyDelivery | void;

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
        route.chain.runComplete(ctx, finish(ctx, route, res));
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

  /**
   * An internal error's cause goes to the operational log (name, code, message, where it
   * was thrown): the client gets a bare 500 `GW_ERR_INTERNAL` and the audit line its code,
   * so without this line nothing would say what failed.
   */
  function internalLogged(ctx: Context, msg: string, error: GatewayError): GatewayError {
    if (error.kind === 'internal') log.error(msg, { request_id: ctx.id, route: ctx.route.name, provider: ctx.provider, err: error.cause ?? error });
    return error;
  }

  /** Answers the request; resolves with the delivery of a body still streaming, if any. */
  async function serve(ctx: Context, route: CompiledRoute, matched: boolean, req: GatewayRequest, res: GatewayResponse): Promise<Streaming> {
    if (!matched) return sendError(ctx, route, res, new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`));
    const server = deps.current().loaded.config.server;
    const provider = route.provider?.provider;
    if (provider?.isUpload !== undefined && route.info.mode === 'passthrough' && provider.isUpload(ctx.method, ctx.subpath)) {
      // Streamed to the upstream once the chain admitted it, never held: see core/upload-body.ts.
      const upload = uploadBody(req, res, server.max_upload_bytes);
      if (upload instanceof GatewayError) {
        stopReading(req, res);
        return sendError(ctx, route, res, upload);
      }
      ctx.upload = upload;
    } else {
      try {
        ctx.body = await readBody(req, res, server.max_body_bytes, deps.requestTimeoutMs, bodyBudget, ctx);
      } catch (err) {
        if (ctx.cancellation.aborted) return;
        stopReading(req, res);
        return sendError(ctx, route, res, toGatewayError(err));
      }
    }
    // network and auth refuse before anything parses the body: see Filter.beforeParse.
    const early = route.chain.beforeParse;
    if (early > 0) {
      let refusal = route.chain.runRequest(ctx, 0, early);
      if (refusal instanceof Promise) refusal = await refusal;
      if (ctx.cancellation.aborted) return;
      if (refusal) return sendReply(ctx, route, res, refusal);
    }
    const unified = route.unified;
    if (unified) unified.prepare(ctx);
    else if (provider?.inspect) {
      try {
        provider.inspect(ctx);
      } catch (err) {
        return sendError(ctx, route, res, internalLogged(ctx, 'provider inspect failed unexpectedly', toGatewayError(err)));
      }
    }

    let verdict = route.chain.runRequest(ctx, early);
    if (verdict instanceof Promise) verdict = await verdict;
    if (ctx.cancellation.aborted) return;
    if (verdict) return sendReply(ctx, route, res, verdict);

    if (route.info.mode === 'operational') {
      const body = await deps.usage(ctx, route);
      return sendBuffered(ctx, route, res, { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: Buffer.from(JSON.stringify(body)) });
    }
    if (unified) {
      const refused = unified.refusal(ctx);
      if (refused) return sendError(ctx, route, res, refused);
      return callProvider(ctx, route, res, () => unified.serve(ctx, route.upstream!));
    }
    if (!provider) throw new GatewayError('GW_ERR_INTERNAL', 'route has no provider');
    if (!(route.upstream?.configured ?? provider.configured)) {
      // Retrying cannot supply a key, and the SDKs would retry a 503 twice or more.
      return sendError(ctx, route, res, new GatewayError('GW_ERR_PROVIDER_UNCONFIGURED', `Provider "${route.info.provider}" is not configured on this gateway (missing credentials)`, { headers: { 'x-should-retry': 'false' } }));
    }
    const passthrough = provider.passthrough;
    if (!passthrough) return sendError(ctx, route, res, new GatewayError('GW_ERR_ROUTE_NOT_FOUND', `Provider "${route.info.provider}" has no pass-through API`));
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
      const error = internalLogged(ctx, 'provider call failed unexpectedly', toGatewayError(err));
      if (error.kind !== 'rejected') metrics.upstreamErrors.inc({ provider: ctx.provider ?? '', kind: error.kind });
      return sendError(ctx, route, res, error);
    }
    return sendProviderResponse(ctx, route, res, upstream);
  }

  function sendReply(ctx: Context, route: CompiledRoute, res: GatewayResponse, verdict: ReplyVerdict): Promise<Streaming> {
    if (verdict.response) {
      const r = verdict.response;
      if (r.usage) Object.assign(ctx.usage, r.usage);
      const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
      return sendProviderResponse(ctx, route, res, { status: r.status, headers: r.headers ?? {}, body });
    }
    return sendError(ctx, route, res, verdict.error ?? new GatewayError('GW_ERR_INTERNAL', 'filter replied without a response'));
  }

  async function sendError(ctx: Context, route: CompiledRoute, res: GatewayResponse, error: GatewayError): Promise<void> {
    ctx.error = error;
    const rendered = ctx.dialect.renderError(error, ctx.id);
    return sendBuffered(ctx, route, res, { status: rendered.status, headers: rendered.headers, body: Buffer.from(rendered.body) });
  }

  async function sendBuffered(ctx: Context, route: CompiledRoute, res: GatewayResponse, r: { status: number; headers: Record<string, string | string[]>; body: Buffer }): Promise<void> {
    const head: ResponseHead = { status: r.status, headers: r.headers };
    const pending = route.chain.runResponse(ctx, head);
    if (pending) await pending;
    if (ctx.cancellation.aborted || res.headersSent) return;
    writeHead(ctx, res, head);
    ctx.bytesOut = r.body.length;
    res.end(r.body);
  }

  async function sendProviderResponse(ctx: Context, route: CompiledRoute, res: GatewayResponse, upstream: ProviderResponse): Promise<Streaming> {
    const head: ResponseHead = { status: upstream.status, headers: withoutHopByHop(upstream.headers) };
    const pending = route.chain.runResponse(ctx, head);
    if (pending) await pending;
    const body = upstream.body;
    // An event stream's length is not the upstream's: a filter may drop an event (the usage
    // chunk the gateway asked for) and core may append an error event to a cut one.
    if (body !== null && !(body instanceof Uint8Array) && head.headers['content-length'] !== undefined && isSse(head)) delete head.headers['content-length'];
    const delivery = new BodyDelivery(ctx, res, isSse(head), upstream.status, upstream.meter, upstreamFailed);
    // Handed back, not awaited: while a body streams, no async function waits on it.
    if (ctx.cancellation.aborted) return delivery.abandon(body);
    try {
      writeHead(ctx, res, head);
    } catch (err) {
      if (res.headersSent) return delivery.abandon(body, err);
      // Node refused the head before writing any of it (a header value a filter set outside
      // Latin-1, a status that is none): the gateway's own fault, answered as such in the
      // route's dialect rather than as a cut connection blamed on the upstream.
      if (body !== null && !(body instanceof Uint8Array)) release(body);
      ctx.error = internalLogged(ctx, 'the response head could not be written', toGatewayError(err));
      writeErrorAfterRefusedHead(ctx, res, ctx.error);
      return;
    }
    if (body === null || body instanceof Uint8Array) return delivery.whole(body);
    // A provider's answer: every filter has had the request at onRequest and nothing
    // resends it now, so a long stream need not keep its body, raw or parsed. A filter's
    // reply leaves the raw body to the filters after it, which never saw it.
    if (ctx.repliedBy === undefined) {
      ctx.releaseBody();
      bodyBudget.release(ctx);
    } else ctx.releaseParsed();
    return delivery.stream(body);
  }

  function upstreamFailed(ctx: Context, error: GatewayError): void {
    metrics.upstreamErrors.inc({ provider: ctx.provider ?? '', kind: error.kind });
  }

  function writeHead(ctx: Context, res: GatewayResponse, head: ResponseHead): void {
    // A refusal or an upstream's early answer while an upload is still arriving.
    if (ctx.upload !== undefined) ctx.upload.leaveUnread();
    ctx.status = head.status;
    ctx.headWrittenAt = performance.now();
    // The gateway's id names the audit line; a provider's own (OpenAI's, which its support
    // asks for) is kept beside it.
    const upstreamId = head.headers['x-request-id'];
    if (upstreamId !== undefined && upstreamId !== ctx.id) head.headers['x-upstream-request-id'] = upstreamId;
    head.headers['x-request-id'] = ctx.id;
    (res as ServerResponse).writeHead(head.status, head.headers);
    // A stream's first event may be seconds away, so its head goes out by itself at the end
    // of this turn of the event loop; when the first bytes are already here they carry it
    // in the same write (one syscall per stream fewer).
    if (ctx.stream) {
      flattenHead(res);
      setImmediate(flushHead, res);
    }
  }

  function writeError(ctx: Context, res: GatewayResponse, error: GatewayError): void {
    if (ctx.upload !== undefined) ctx.upload.leaveUnread();
    const rendered = ctx.dialect.renderError(error, ctx.id);
    ctx.status = rendered.status;
    ctx.headWrittenAt = performance.now();
    (res as ServerResponse).writeHead(rendered.status, { ...rendered.headers, 'x-request-id': ctx.id });
    res.end(rendered.body);
  }

  /**
   * `writeError` on a response whose head Node refused midway, which left part of it behind:
   * HTTP/2 the headers set before the bad one, HTTP/1.1 the status text and a length.
   */
  function writeErrorAfterRefusedHead(ctx: Context, res: GatewayResponse, error: GatewayError): void {
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    const rendered = ctx.dialect.renderError(error, ctx.id);
    const body = Buffer.from(rendered.body);
    const headers = { ...rendered.headers, 'content-length': String(body.length), 'x-request-id': ctx.id };
    ctx.status = rendered.status;
    ctx.headWrittenAt = performance.now();
    if ('stream' in res) res.writeHead(rendered.status, headers);
    else res.writeHead(rendered.status, STATUS_CODES[rendered.status] ?? '', headers);
    res.end(body);
  }

  function finish(ctx: Context, route: CompiledRoute, res: GatewayResponse): Outcome {
    const now = performance.now();
    // An upstream's counts feed shared limits, budgets and counters: only counts count.
    const invalid = zeroInvalidCounts(ctx.usage);
    if (invalid.length > 0) log.warn('the answer reported token counts that are no counts; counted as 0', { request_id: ctx.id, provider: ctx.provider, fields: invalid });
    let aborted = ctx.cancellation.aborted && !delivered(res);
    // Cut by the shutdown: the status the client got (503 if none), and the gateway's doing.
    const cut = aborted && deps.cutting?.() === true;
    if (cut) aborted = false;
    const status = aborted ? 499 : cut ? ctx.status || 503 : ctx.status || 500;
    let error: Outcome['error'];
    if (aborted) error = { kind: 'client_abort', code: 'GW_ERR_CLIENT_ABORT', message: 'Client closed the request' };
    else if (cut) error = { kind: 'unavailable', code: 'GW_ERR_UNAVAILABLE', message: 'The gateway shut down before the answer was delivered' };
    else if (ctx.error) error = { kind: ctx.error.kind, code: ctx.error.code, message: ctx.error.message };
    else if (ctx.streamError) error = { kind: 'stream_error', code: 'GW_ERR_UPSTREAM_STREAM', message: ctx.streamError };
    else if (status >= 400) error = { kind: 'upstream_status', code: 'GW_ERR_UPSTREAM_STATUS', message: `Upstream answered ${status}` };
    const upstreamMs = ctx.upstreamStartedAt ? (ctx.upstreamEndedAt || now) - ctx.upstreamStartedAt : 0;
    const durationMs = now - ctx.arrivedAt;
    const outcome: Outcome = {
      status,
      error,
      repliedBy: ctx.repliedBy,
      provider: ctx.provider,
      model: ctx.model,
      stream: ctx.stream,
      usage: ctx.usage,
      usageEstimated: ctx.usageEstimated || undefined,
      bytesIn: ctx.bytesIn,
      bytesOut: ctx.bytesOut,
      durationMs,
      ttfbMs: ctx.headWrittenAt ? ctx.headWrittenAt - ctx.arrivedAt : undefined,
      upstreamMs,
      target: ctx.target,
      attempts: ctx.attempts || undefined,
    };
    const provider = ctx.provider ?? 'none';
    metrics.recordRequest(route.info.name, provider, status, durationMs / 1000, Math.max(0, durationMs - upstreamMs) / 1000, outcome.ttfbMs === undefined ? undefined : outcome.ttfbMs / 1000);
    const u = ctx.usage;
    if (u.inputTokens + u.outputTokens + u.cacheCreationTokens + u.cacheReadTokens > 0) metrics.recordTokens(provider, ctx.model ?? 'unknown', u);
    return outcome;
  }
}

/** Send a response head no body write has sent yet (a no-op once one has). */
function flushHead(res: GatewayResponse): void {
  if (!res.writableEnded && !res.destroyed) (res as ServerResponse).flushHeaders?.();
}

function isSse(head: ResponseHead): boolean {
  return String(head.headers['content-type'] ?? '').startsWith('text/event-stream');
}

/**
 * Whether the whole response was handed to the connection. HTTP/2's compatibility response
 * reports `writableFinished` as soon as its stream closes, reset by the client or not, so
 * `writableEnded` (our `end()` was called) must hold too.
 */
function delivered(res: GatewayResponse): boolean {
  return res.writableEnded && res.writableFinished;
}
