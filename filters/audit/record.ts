/**
 * One audit line. The seed's fields come first and exactly as the seed names them
 * (`timestamp` … `status`); the gateway's own fields follow, in the order written here.
 */
import { flat, isoTime, type Outcome, type RequestContext } from '../../core/index.js';
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

/** What JSON.stringify would escape: quote, backslash, controls, lone surrogate halves. */
const NEEDS_ESCAPE = /["\\\x00-\x1f\ud800-\udfff]/;

/** A JSON string, or `null`. Most fields (names, ids, paths) need no escaping: quoted as they are. */
function str(value: string | null | undefined): string {
  if (value == null) return 'null';
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** Quoted forms of the values lines repeat; bounded, as paths and sessions come from clients. */
const quotedValues = new Map<string, string>();
const QUOTED_MAX_ENTRIES = 1024;
const QUOTED_MAX_LENGTH = 256;

/**
 * {@link str} for a value most lines share (a user, model, route, path, target): looked up
 * rather than scanned, and one flat string to copy rather than three pieces.
 */
function repeated(value: string | null | undefined): string {
  if (value == null) return 'null';
  let q = quotedValues.get(value);
  if (q === undefined) {
    // JSON.stringify gives what str() does, as one flat string.
    q = JSON.stringify(value);
    if (value.length > QUOTED_MAX_LENGTH) return q;
    if (quotedValues.size >= QUOTED_MAX_ENTRIES) quotedValues.clear();
    quotedValues.set(value, q);
  }
  return q;
}

type Text = string | null | undefined;

/**
 * A run of fields consecutive lines mostly share (one user's requests on one route), made
 * once and reused while its values stay the same: a line of fewer, longer pieces is cheaper
 * to build, and to flatten when it is sealed.
 */
class SharedRun {
  private a: Text;
  private b: Text;
  private c: Text;
  private d: Text;
  private e: Text;
  private f: Text;
  /** The run as last made; '' before the first (a run is never empty). */
  private text = '';

  constructor(private readonly make: (a: Text, b: Text, c: Text, d: Text, e: Text, f: Text) => string) {}

  of(a: Text, b: Text, c: Text, d: Text = null, e: Text = null, f: Text = null): string {
    if (this.text === '' || a !== this.a || b !== this.b || c !== this.c || d !== this.d || e !== this.e || f !== this.f) {
      // Flat once, here, rather than in every line it joins.
      this.text = flat(this.make(a, b, c, d, e, f));
      this.a = a;
      this.b = b;
      this.c = c;
      this.d = d;
      this.e = e;
      this.f = f;
    }
    return this.text;
  }
}

const who = new SharedRun((user, workspace, provider, model) => `"user":${repeated(user)},"workspace":${repeated(workspace)},"provider":${repeated(provider)},"model":${repeated(model)}`);
const route = new SharedRun((name, stream, code) => `,"route":${repeated(name)},"stream":${stream},"error":${repeated(code)}`);
const where = new SharedRun(
  (project, auth, method, path, kind, by) => `,"project":${repeated(project)},"auth":${repeated(auth)},"method":${repeated(method)},"path":${repeated(path)},"error_kind":${repeated(kind)},"replied_by":${repeated(by)}`,
);

/** A JSON number as `JSON.stringify` writes it (`null` for NaN and infinities). */
function num(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/**
 * The line, written field by field: the same text `JSON.stringify` would give for the
 * record, without building a 30-key object per request to serialize it.
 */
export function auditLine(ctx: RequestContext, outcome: Outcome, now: Date, content: AuditContent | undefined, accounting?: AuditAccounting): string {
  const id = ctx.identity;
  const u = outcome.usage;
  const error = outcome.error;
  // Input tokens exclude cache writes and reads; those are the two cache fields.
  let line =
    `{"timestamp":"${isoTime(now.getTime())}","event":"ai_request",${who.of(id?.user, id?.workspace, outcome.provider, outcome.model)}` +
    `,"tokens_in":${num(u.inputTokens)},"tokens_out":${num(u.outputTokens)},"latency_ms":${num(Math.round(outcome.durationMs))},"status":${num(outcome.status)}` +
    `,"request_id":${str(ctx.id)}${route.of(ctx.route.name, outcome.stream ? 'true' : 'false', error?.code)}` +
    `,"cache_creation_tokens":${num(u.cacheCreationTokens)},"cache_read_tokens":${num(u.cacheReadTokens)}` +
    // Only when some: of the cache writes, the 1-hour ones (priced apart; replay reprices by it).
    (u.cacheCreation1hTokens ? `,"cache_creation_1h_tokens":${num(u.cacheCreation1hTokens)}` : '') +
    // Never the query string: Gemini clients put their key there.
    `${where.of(id?.project, id?.source, ctx.method, ctx.path, error?.kind, outcome.repliedBy)},"cache_hit":${ctx.get(CACHE_HIT) === true}` +
    `,"ttfb_ms":${outcome.ttfbMs === undefined ? 'null' : num(Math.round(outcome.ttfbMs))},"upstream_ms":${num(Math.round(outcome.upstreamMs))}` +
    `,"bytes_in":${num(outcome.bytesIn)},"bytes_out":${num(outcome.bytesOut)},"target":${repeated(outcome.target)},"attempts":${num(outcome.attempts ?? 0)}`;
  // Only when true: counts the gateway estimated (the answer ended before its usage report).
  if (outcome.usageEstimated) line += ',"tokens_estimated":true';
  if (accounting) {
    line += `,"cost_usd":${num(accounting.costUsd)}`;
    // Only when true: an unpriced model is flagged, never silently free.
    if (accounting.priceMissing) line += ',"price_missing":true';
    line += `,"session":${repeated(accounting.session)}`;
  }
  if (content) line += `,"prompt":${str(content.prompt)},"completion":${str(content.completion)}`;
  return line + '}';
}
