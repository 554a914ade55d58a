/**
 * The `anthropic_betas` option: which Anthropic beta flags the gateway sends to Bedrock.
 * Claude Code and the Anthropic SDKs send betas Bedrock does not know (`claude-code-20250219`,
 * `mcp-servers-2025-12-04`, …), in the `anthropic-beta` header and in an InvokeModel body's
 * `"anthropic_beta"` list, and Bedrock refuses the whole request with a 400 "invalid beta
 * flag". With an allowlist, betas it does not name are dropped from both; without one
 * everything is forwarded as before. A body is re-serialised only when it holds a beta to
 * drop: one without `"anthropic_beta"` is found so by a byte search and goes byte for byte.
 */
import { createKey, type BodyStrings, type FastCounter, type JsonReads, type Logger, type PluginEnv, type RequestContext } from '../../core/index.js';

export interface AnthropicBetasConfig {
  /** The betas forwarded; any other is dropped from the header and the body. */
  allow: string[];
}

export const anthropicBetasSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['allow'],
  properties: {
    // A beta is one token of a comma-separated header: no comma, no whitespace.
    allow: { type: 'array', items: { type: 'string', pattern: '^[^,\\s]+$' } },
  },
};

const BETA_HEADER = 'anthropic-beta';
// Searched for by its rare tail, then checked whole: V8's search for the whole name
// crawls through prompt text (~90 µs per 100 KB against ~6 µs for the tail).
const MEMBER_TAIL = Buffer.from('_beta"');
const MEMBER_HEAD = Buffer.from('"anthropic');
const READS: JsonReads = { members: { anthropic_beta: { items: { text: true } } } };

/**
 * Dropped betas get their own `beta` label only while fewer than this many have one (for the
 * gateway's lifetime, reloads included), and only when they look like a beta name: clients
 * choose these strings, and a series per invented name would grow without bound.
 */
const LABELLED_BETAS = 32;
const LABELLABLE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const OTHER = 'other';

/** The betas a request has had counted: each once, though a header and a body (or a retry) drop it again. */
const COUNTED = createKey<Set<string>>('bedrock.betas.counted');

export class BetaAllowlist {
  private readonly allow: ReadonlySet<string>;
  private readonly dropped: FastCounter<'provider' | 'beta'>;
  private readonly labelled: Set<string>;
  private readonly log: Logger;

  constructor(config: AnthropicBetasConfig, env: PluginEnv) {
    this.allow = new Set(config.allow);
    this.dropped = env.metrics.fastCounter({
      name: 'gateway_bedrock_betas_dropped_total',
      help: `Anthropic betas dropped before Bedrock because anthropic_betas.allow does not name them, by provider and beta (the first ${LABELLED_BETAS} names seen; "other" after)`,
      labelNames: ['provider', 'beta'],
    });
    this.labelled = env.shared.get('bedrock.betas-dropped.labels', () => new Set<string>());
    this.log = env.log;
  }

  /**
   * The `anthropic-beta` header without the betas not allowed: `headers` itself when none
   * is dropped, else a copy with the header shortened or, when nothing is left, removed.
   */
  headers(ctx: RequestContext, headers: Record<string, string | string[]>): Record<string, string | string[]> {
    const value = headers[BETA_HEADER];
    if (value === undefined) return headers;
    const kept: string[] = [];
    const dropped: string[] = [];
    for (const line of Array.isArray(value) ? value : [value]) {
      for (const part of line.split(',')) {
        const beta = part.trim();
        if (beta === '') continue;
        (this.allow.has(beta) ? kept : dropped).push(beta);
      }
    }
    if (dropped.length === 0) return headers;
    this.count(ctx, dropped);
    const { [BETA_HEADER]: _removed, ...rest } = headers;
    return kept.length > 0 ? { ...rest, [BETA_HEADER]: kept.join(',') } : rest;
  }

  /**
   * `ctx.body` without the betas not allowed in its top-level `anthropic_beta` list (the
   * member removed when none is left): the body itself when it names no such member or
   * drops nothing, so the common request goes byte for byte. A body that is not a JSON
   * object, or whose member is not a list, goes as it is, for Bedrock to refuse.
   */
  body(ctx: RequestContext): Buffer {
    const body = ctx.body;
    if (!namesBetaMember(body)) return body;
    let picked: unknown;
    try {
      picked = ctx.jsonPick(READS);
    } catch {
      return body;
    }
    const listed = record(picked)?.anthropic_beta;
    if (!Array.isArray(listed) || listed.every((b) => typeof b !== 'string' || this.allow.has(b))) return body;
    const { value, strings } = ctx.rewritableBody();
    const request = record(value);
    const betas = request?.anthropic_beta;
    if (!request || !Array.isArray(betas)) return body;
    return strings.serialize(this.withBetas(ctx, request, betas, strings));
  }

  /**
   * `request` (a parsed model body) with only the allowed betas in `betas`, its
   * `anthropic_beta`: `request` itself when none is dropped, else a copy, the member
   * removed when nothing is left. Strings are of `strings`' form.
   */
  withBetas(ctx: RequestContext, request: Record<string, unknown>, betas: unknown[], strings: BodyStrings): Record<string, unknown> {
    const kept: unknown[] = [];
    const dropped: string[] = [];
    for (const b of betas) {
      if (typeof b !== 'string') kept.push(b);
      else if (this.allow.has(strings.text(b))) kept.push(b);
      else dropped.push(strings.text(b));
    }
    if (dropped.length === 0) return request;
    this.count(ctx, dropped);
    const { anthropic_beta: _removed, ...rest } = request;
    return kept.length > 0 ? { ...rest, anthropic_beta: kept } : rest;
  }

  /** A model body's betas filtered, for a body the provider builds itself (count_tokens, `/invoke`). */
  filterModelBody(ctx: RequestContext, request: Record<string, unknown>, strings: BodyStrings): Record<string, unknown> {
    const betas = request.anthropic_beta;
    return Array.isArray(betas) ? this.withBetas(ctx, request, betas, strings) : request;
  }

  private count(ctx: RequestContext, dropped: readonly string[]): void {
    let counted = ctx.get(COUNTED);
    if (!counted) ctx.set(COUNTED, (counted = new Set()));
    const fresh = dropped.filter((beta) => !counted.has(beta));
    if (fresh.length === 0) return;
    const provider = ctx.provider ?? 'bedrock';
    for (const beta of fresh) {
      counted.add(beta);
      this.dropped.inc({ provider, beta: this.label(beta) }, 1);
    }
    this.log.debug('anthropic betas dropped: anthropic_betas.allow does not name them', { request_id: ctx.id, model: ctx.model, betas: fresh });
  }

  private label(beta: string): string {
    if (this.labelled.has(beta)) return beta;
    if (this.labelled.size >= LABELLED_BETAS || !LABELLABLE.test(beta)) return OTHER;
    this.labelled.add(beta);
    return beta;
  }
}

/** Whether `body` holds the bytes `"anthropic_beta"` anywhere (a string that spells it too: then it is parsed, and nothing dropped). */
export function namesBetaMember(body: Buffer): boolean {
  for (let i = body.indexOf(MEMBER_TAIL, MEMBER_HEAD.length); i >= 0; i = body.indexOf(MEMBER_TAIL, i + 1)) {
    if (body.compare(MEMBER_HEAD, 0, MEMBER_HEAD.length, i - MEMBER_HEAD.length, i) === 0) return true;
  }
  return false;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
