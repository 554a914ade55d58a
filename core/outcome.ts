/**
 * Closes a request's books: the one Outcome every filter's onComplete gets (status, error
 * kind, tokens, bytes, timings — a client abort or a shutdown cut told apart from a
 * failure) and the request and token metrics recorded from it.
 *
 * Apart from the handler because it is the one place that decides what a request ended
 * as; built once per handler, so finishing a request allocates the Outcome and nothing else.
 */
import type { Context } from './context.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { GatewayResponse, HandlerDeps } from './handler.js';
import type { Logger } from './logger.js';
import type { CompiledRoute } from './pipeline.js';
import { delivered } from './response-write.js';
import { zeroInvalidCounts } from './token-count.js';
import type { Outcome } from './types.js';

export class OutcomeRecorder {
  private readonly metrics: GatewayMetrics;
  private readonly log: Logger;

  constructor(private readonly deps: Pick<HandlerDeps, 'metrics' | 'log' | 'cutting'>) {
    this.metrics = deps.metrics;
    this.log = deps.log;
  }

  finish(ctx: Context, route: CompiledRoute, res: GatewayResponse): Outcome {
    const now = performance.now();
    // An upstream's counts feed shared limits, budgets and counters: only counts count.
    const invalid = zeroInvalidCounts(ctx.usage);
    if (invalid.length > 0) this.log.warn('the answer reported token counts that are no counts; counted as 0', { request_id: ctx.id, provider: ctx.provider, fields: invalid });
    let aborted = ctx.cancellation.aborted && !delivered(res);
    // Cut by the shutdown: the status the client got (503 if none), and the gateway's doing.
    const cut = aborted && this.deps.cutting?.() === true;
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
    this.metrics.recordRequest(route.info.name, provider, status, durationMs / 1000, Math.max(0, durationMs - upstreamMs) / 1000, outcome.ttfbMs === undefined ? undefined : outcome.ttfbMs / 1000);
    const u = ctx.usage;
    if (u.inputTokens + u.outputTokens + u.cacheCreationTokens + u.cacheReadTokens > 0) this.metrics.recordTokens(provider, ctx.model ?? 'unknown', u);
    return outcome;
  }
}
