/**
 * One audit line. The seed's fields come first and exactly as the seed names them
 * (`timestamp` … `status`); the gateway's own fields follow. JSON object key order is
 * insertion order, so this literal is the line format.
 */
import type { Outcome, RequestContext } from '../../core/index.js';
import { CACHE_HIT } from '../cache/slot.js';

/** Prompt and completion text, present only with `log_content: true`, already redacted. */
export interface AuditContent {
  prompt: string | null;
  completion: string | null;
}

/** What the request cost and which agent session sent it (see `filters/cost`). */
export interface AuditAccounting {
  costUsd: number;
  priceMissing: boolean;
  session: string | null;
}

/** Audited: everything but operational endpoints; an unknown path has no AI route but is audited. */
export function isAudited(ctx: RequestContext, outcome: Outcome): boolean {
  return ctx.kind !== 'operational' || outcome.error?.kind === 'not_found';
}

export function auditRecord(ctx: RequestContext, outcome: Outcome, now: Date, content: AuditContent | undefined, accounting?: AuditAccounting): Record<string, unknown> {
  const id = ctx.identity;
  const u = outcome.usage;
  const record: Record<string, unknown> = {
    timestamp: now.toISOString(),
    event: 'ai_request',
    user: id?.user ?? null,
    workspace: id?.workspace ?? null,
    provider: outcome.provider ?? null,
    model: outcome.model ?? null,
    // Input tokens exclude cache writes and reads; those are the two cache fields below.
    tokens_in: u.inputTokens,
    tokens_out: u.outputTokens,
    latency_ms: Math.round(outcome.durationMs),
    status: outcome.status,
    request_id: ctx.id,
    route: ctx.route.name,
    stream: outcome.stream,
    error: outcome.error?.code ?? null,
    cache_creation_tokens: u.cacheCreationTokens,
    cache_read_tokens: u.cacheReadTokens,
    project: id?.project ?? null,
    auth: id?.source ?? null,
    method: ctx.method,
    // Never the query string: Gemini clients put their key there.
    path: ctx.path,
    error_kind: outcome.error?.kind ?? null,
    replied_by: outcome.repliedBy ?? null,
    cache_hit: ctx.get(CACHE_HIT) === true,
    ttfb_ms: outcome.ttfbMs === undefined ? null : Math.round(outcome.ttfbMs),
    upstream_ms: Math.round(outcome.upstreamMs),
    bytes_in: outcome.bytesIn,
    bytes_out: outcome.bytesOut,
    target: outcome.target ?? null,
    attempts: outcome.attempts ?? 0,
  };
  if (accounting) {
    record.cost_usd = accounting.costUsd;
    // Only when true: an unpriced model is flagged, never silently free.
    if (accounting.priceMissing) record.price_missing = true;
    record.session = accounting.session;
  }
  if (content) {
    record.prompt = content.prompt;
    record.completion = content.completion;
  }
  return record;
}
