/**
 * A request's answer once the way through has one: a filter's reply, a gateway error in the
 * route's dialect, a buffered body, or a provider's response (its head past every filter's
 * onResponse, its body handed to a BodyDelivery to stream).
 *
 * Apart from the handler so that core/handler.ts reads as the request's way through and
 * this file as what answering means. One Replier per handler, never per request: its
 * methods share the handler's metrics, log and body budget without a closure each.
 */
import type { BodyBudget } from './body-budget.js';
import type { Context } from './context.js';
import { GatewayError, toGatewayError } from './errors.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { GatewayResponse, HandlerDeps } from './handler.js';
import { withoutHopByHop } from './http-headers.js';
import type { Logger } from './logger.js';
import type { CompiledRoute } from './pipeline.js';
import { isSse, writeErrorAfterRefusedHead, writeHead } from './response-write.js';
import { BodyDelivery } from './stream/delivery.js';
import { release } from './stream/pump.js';
import type { ProviderResponse, ReplyVerdict, ResponseHead } from './types.js';

/** What answering a request leaves running: the delivery of a provider's answer (perhaps still streaming), or nothing. */
export type Streaming = BodyDelivery | void;

export class Replier {
  private readonly metrics: GatewayMetrics;
  private readonly log: Logger;
  private readonly bodyBudget: BodyBudget;

  constructor(deps: Pick<HandlerDeps, 'metrics' | 'log' | 'bodyBudget'>) {
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.bodyBudget = deps.bodyBudget;
  }

  /** Told by every BodyDelivery of an upstream failure mid-body; bound once, here. */
  private readonly upstreamFailed = (ctx: Context, error: GatewayError): void => {
    this.metrics.upstreamErrors.inc({ provider: ctx.provider ?? '', kind: error.kind });
  };

  /**
   * An internal error's cause goes to the operational log (name, code, message, where it
   * was thrown): the client gets a bare 500 `GW_ERR_INTERNAL` and the audit line its code,
   * so without this line nothing would say what failed.
   */
  internalLogged(ctx: Context, msg: string, error: GatewayError): GatewayError {
    if (error.kind === 'internal') this.log.error(msg, { request_id: ctx.id, route: ctx.route.name, provider: ctx.provider, err: error.cause ?? error });
    return error;
  }

  sendReply(ctx: Context, route: CompiledRoute, res: GatewayResponse, verdict: ReplyVerdict): Promise<Streaming> {
    if (verdict.response) {
      const r = verdict.response;
      if (r.usage) Object.assign(ctx.usage, r.usage);
      const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
      return this.sendProviderResponse(ctx, route, res, { status: r.status, headers: r.headers ?? {}, body });
    }
    return this.sendError(ctx, route, res, verdict.error ?? new GatewayError('GW_ERR_INTERNAL', 'filter replied without a response'));
  }

  async sendError(ctx: Context, route: CompiledRoute, res: GatewayResponse, error: GatewayError): Promise<void> {
    ctx.error = error;
    const rendered = ctx.dialect.renderError(error, ctx.id);
    return this.sendBuffered(ctx, route, res, { status: rendered.status, headers: rendered.headers, body: Buffer.from(rendered.body) });
  }

  async sendBuffered(ctx: Context, route: CompiledRoute, res: GatewayResponse, r: { status: number; headers: Record<string, string | string[]>; body: Buffer }): Promise<void> {
    const head: ResponseHead = { status: r.status, headers: r.headers };
    const pending = route.chain.runResponse(ctx, head);
    if (pending) await pending;
    if (ctx.cancellation.aborted || res.headersSent) return;
    writeHead(ctx, res, head);
    ctx.bytesOut = r.body.length;
    res.end(r.body);
  }

  async sendProviderResponse(ctx: Context, route: CompiledRoute, res: GatewayResponse, upstream: ProviderResponse): Promise<Streaming> {
    const head: ResponseHead = { status: upstream.status, headers: withoutHopByHop(upstream.headers) };
    const pending = route.chain.runResponse(ctx, head);
    if (pending) await pending;
    const body = upstream.body;
    // An event stream's length is not the upstream's: a filter may drop an event (the usage
    // chunk the gateway asked for) and core may append an error event to a cut one.
    if (body !== null && !(body instanceof Uint8Array) && head.headers['content-length'] !== undefined && isSse(head)) delete head.headers['content-length'];
    const delivery = new BodyDelivery(ctx, res, isSse(head), upstream.status, upstream.meter, this.upstreamFailed);
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
      ctx.error = this.internalLogged(ctx, 'the response head could not be written', toGatewayError(err));
      writeErrorAfterRefusedHead(ctx, res, ctx.error);
      return;
    }
    if (body === null || body instanceof Uint8Array) return delivery.whole(body);
    // A provider's answer: every filter has had the request at onRequest and nothing
    // resends it now, so a long stream need not keep its body, raw or parsed. A filter's
    // reply leaves the raw body to the filters after it, which never saw it.
    if (ctx.repliedBy === undefined) {
      ctx.releaseBody();
      this.bodyBudget.release(ctx);
    } else ctx.releaseParsed();
    return delivery.stream(body);
  }
}
