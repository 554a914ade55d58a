/**
 * The `anthropic_betas` option: which Anthropic beta flags the gateway sends to Bedrock.
 * Claude Code and the Anthropic SDKs send betas Bedrock does not know (`claude-code-20250219`,
 * `mcp-servers-2025-12-04`, …), in the `anthropic-beta` header and in an InvokeModel body's
 * `"anthropic_beta"` list (Converse clients in `additionalModelRequestFields.anthropic_beta`),
 * and Bedrock refuses the whole request with a 400 "invalid beta flag". Which betas a model
 * takes differs (Opus 4.7 almost none), so a model may have its own list. Betas a request's
 * list does not name are dropped from the header and the body; a model with no list gets
 * everything, as without the option. A body is re-serialised only when it holds a beta to
 * drop: one without `"anthropic_beta"` is found so by a byte search and goes byte for byte.
 */
import { createKey, type BodyStrings, type FastCounter, type JsonReads, type Logger, type PluginEnv, type RequestContext } from '../../core/index.js';
import { baseModelId } from './model-id.js';

/**
 * @example
 * // Opus 4.7 gets interleaved thinking only; every other model the two betas of `allow`.
 * { allow: ['interleaved-thinking-2025-05-14', 'context-1m-2025-08-07'],
 *   models: { 'anthropic.claude-opus-4-7': ['interleaved-thinking-2025-05-14'] } }
 */
export interface AnthropicBetasConfig {
  /** The betas forwarded for a model `models` does not name; any other is dropped. Absent: such a model gets every beta. */
  allow?: string[];
  /**
   * Per model, the betas forwarded instead of `allow`: keyed by the base model id, which a
   * cross-region profile (`global.`, `us.`, …) or a foundation-model or profile ARN resolves
   * to; any other reference (an application inference profile's ARN) as it is written.
   */
  models?: Record<string, string[]>;
}

// A beta is one token of a comma-separated header: no comma, no whitespace.
const BETA_LIST = { type: 'array', items: { type: 'string', pattern: '^[^,\\s]+$' } };

export const anthropicBetasSchema = {
  type: 'object',
  additionalProperties: false,
  anyOf: [{ required: ['allow'] }, { required: ['models'] }],
  properties: {
    allow: BETA_LIST,
    models: { type: 'object', propertyNames: { pattern: '^\\S+$' }, additionalProperties: BETA_LIST },
  },
};

/** Where a request body keeps its betas: what is read of it, and the member holding the list (the body itself when none). */
export interface BetaMember {
  readonly reads: JsonReads;
  readonly parent?: string;
}

const BETA_ITEMS: JsonReads = { members: { anthropic_beta: { items: { text: true } } } };
/** InvokeModel, its stream, Anthropic's Messages: the body's top-level `anthropic_beta`. */
export const MODEL_BETAS: BetaMember = { reads: BETA_ITEMS };
/** Converse and ConverseStream: `additionalModelRequestFields.anthropic_beta`, the fields Bedrock hands the model. */
export const CONVERSE_BETAS: BetaMember = { reads: { members: { additionalModelRequestFields: BETA_ITEMS } }, parent: 'additionalModelRequestFields' };

const BETA_HEADER = 'anthropic-beta';
// Searched for by its rare tail, then checked whole: V8's search for the whole name
// crawls through prompt text (~90 µs per 100 KB against ~6 µs for the tail).
const MEMBER_TAIL = Buffer.from('_beta"');
const MEMBER_HEAD = Buffer.from('"anthropic');

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
  /** The betas a model `perModel` does not name gets; undefined: all. */
  private readonly allow: ReadonlySet<string> | undefined;
  /** By the model's base id (or its reference as written, when it names no base model). */
  private readonly perModel: ReadonlyMap<string, ReadonlySet<string>>;
  private readonly dropped: FastCounter<'provider' | 'beta'>;
  private readonly labelled: Set<string>;
  private readonly log: Logger;

  constructor(config: AnthropicBetasConfig, env: PluginEnv) {
    this.allow = config.allow ? new Set(config.allow) : undefined;
    this.perModel = modelLists(config.models ?? {});
    this.dropped = env.metrics.fastCounter({
      name: 'gateway_bedrock_betas_dropped_total',
      help: `Anthropic betas dropped before Bedrock because anthropic_betas does not allow them for the request's model, by provider and beta (the first ${LABELLED_BETAS} names seen; "other" after)`,
      labelNames: ['provider', 'beta'],
    });
    this.labelled = env.shared.get('bedrock.betas-dropped.labels', () => new Set<string>());
    this.log = env.log;
  }

  /** The betas forwarded for the request's model: its own list, else `allow`; undefined when every beta is. */
  private allowed(ctx: RequestContext): ReadonlySet<string> | undefined {
    if (this.perModel.size > 0) {
      const model = ctx.baseModel ?? ctx.model;
      const own = model === undefined ? undefined : this.perModel.get(model);
      if (own) return own;
    }
    return this.allow;
  }

  /**
   * The `anthropic-beta` header without the betas not allowed: `headers` itself when none
   * is dropped, else a copy with the header shortened or, when nothing is left, removed.
   */
  headers<H extends Record<string, string | string[]>>(ctx: RequestContext, headers: H): H {
    const value = headers[BETA_HEADER];
    if (value === undefined) return headers;
    const allow = this.allowed(ctx);
    if (!allow) return headers;
    const kept: string[] = [];
    const dropped: string[] = [];
    for (const beta of headerBetas(value)) (allow.has(beta) ? kept : dropped).push(beta);
    if (dropped.length === 0) return headers;
    this.count(ctx, dropped);
    const { [BETA_HEADER]: _removed, ...rest } = headers;
    // A shortened value is one string: a string-valued record stays one.
    return (kept.length > 0 ? { ...rest, [BETA_HEADER]: kept.join(',') } : rest) as H;
  }

  /**
   * `ctx.body` without the betas not allowed in its `anthropic_beta` list where `where` says
   * it is (the member removed when none is left, its parent otherwise kept as it was): the
   * body itself when it names no such member or drops nothing, so the common request goes
   * byte for byte. A body that is not a JSON object, or whose member is not a list, goes as
   * it is, for Bedrock to refuse.
   */
  body(ctx: RequestContext, where: BetaMember): Buffer {
    const body = ctx.body;
    const allow = this.allowed(ctx);
    if (!allow || !namesBetaMember(body)) return body;
    let picked: unknown;
    try {
      picked = ctx.jsonPick(where.reads);
    } catch {
      return body;
    }
    const listed = holder(picked, where)?.anthropic_beta;
    if (!Array.isArray(listed) || listed.every((b) => typeof b !== 'string' || allow.has(b))) return body;
    const { value, strings } = ctx.rewritableBody();
    const request = record(value);
    const fields = holder(request, where);
    const betas = fields?.anthropic_beta;
    if (!request || !fields || !Array.isArray(betas)) return body;
    const filtered = this.withBetas(ctx, allow, fields, betas, strings);
    return strings.serialize(where.parent === undefined ? filtered : { ...request, [where.parent]: filtered });
  }

  /** A model body's betas filtered, for a body the provider builds itself (count_tokens, `/invoke`). */
  filterModelBody(ctx: RequestContext, request: Record<string, unknown>, strings: BodyStrings): Record<string, unknown> {
    const betas = request.anthropic_beta;
    if (!Array.isArray(betas)) return request;
    const allow = this.allowed(ctx);
    return allow ? this.withBetas(ctx, allow, request, betas, strings) : request;
  }

  /**
   * `fields` (a parsed object holding `betas` as its `anthropic_beta`) with only the betas
   * in `allow`: `fields` itself when none is dropped, else a copy, the member removed when
   * nothing is left. Strings are of `strings`' form.
   */
  private withBetas(ctx: RequestContext, allow: ReadonlySet<string>, fields: Record<string, unknown>, betas: unknown[], strings: BodyStrings): Record<string, unknown> {
    const kept: unknown[] = [];
    const dropped: string[] = [];
    for (const b of betas) {
      if (typeof b !== 'string') kept.push(b);
      else if (allow.has(strings.text(b))) kept.push(b);
      else dropped.push(strings.text(b));
    }
    if (dropped.length === 0) return fields;
    this.count(ctx, dropped);
    const { anthropic_beta: _removed, ...rest } = fields;
    return kept.length > 0 ? { ...rest, anthropic_beta: kept } : rest;
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
    this.log.debug('anthropic betas dropped: anthropic_betas does not allow them for this model', { request_id: ctx.id, model: ctx.model, betas: fresh });
  }

  private label(beta: string): string {
    if (this.labelled.has(beta)) return beta;
    if (this.labelled.size >= LABELLED_BETAS || !LABELLABLE.test(beta)) return OTHER;
    this.labelled.add(beta);
    return beta;
  }
}

/**
 * The betas of an `anthropic-beta` header (comma-separated, over one line or several), in order.
 * @example
 * headerBetas(['a, b', 'c']) // ['a', 'b', 'c']
 */
export function headerBetas(value: string | string[]): string[] {
  const betas: string[] = [];
  for (const line of Array.isArray(value) ? value : [value]) {
    for (const part of line.split(',')) {
      const beta = part.trim();
      if (beta !== '') betas.push(beta);
    }
  }
  return betas;
}

/** Whether `body` holds the bytes `"anthropic_beta"` anywhere (a string that spells it too: then it is parsed, and nothing dropped). */
export function namesBetaMember(body: Buffer): boolean {
  for (let i = body.indexOf(MEMBER_TAIL, MEMBER_HEAD.length); i >= 0; i = body.indexOf(MEMBER_TAIL, i + 1)) {
    if (body.compare(MEMBER_HEAD, 0, MEMBER_HEAD.length, i - MEMBER_HEAD.length, i) === 0) return true;
  }
  return false;
}

/**
 * Each model's list as a set, keyed by the base id its key names (`global.anthropic.x` and
 * `anthropic.x` are one model), so a request finds its list with one lookup.
 * @throws Error when two keys name one model: which list applies would be a guess.
 */
function modelLists(models: Record<string, string[]>): Map<string, ReadonlySet<string>> {
  const lists = new Map<string, ReadonlySet<string>>();
  const keyOf = new Map<string, string>();
  for (const [key, betas] of Object.entries(models)) {
    const model = baseModelId(key) ?? key;
    const earlier = keyOf.get(model);
    if (earlier !== undefined) throw new Error(`anthropic_betas.models: "${earlier}" and "${key}" name the same model (${model}); keep one`);
    keyOf.set(model, key);
    lists.set(model, new Set(betas));
  }
  return lists;
}

/** The object holding the `anthropic_beta` list in a parsed body: the body, or its member `where.parent`. */
function holder(body: unknown, where: BetaMember): Record<string, unknown> | undefined {
  const top = record(body);
  return where.parent === undefined ? top : record(top?.[where.parent]);
}

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
