/**
 * A batch create judged by the rules of the requests it holds (`ctx.batch`): each one's
 * model, output caps and prompt size, as if it had come alone to the same route (the model
 * a batch names for all of them is judged by the caller, `index.ts`). A batch
 * stays auxiliary (its tokens are known only when it ends), but without this it would be
 * the way around every model and cap rule: Opus at 64000 tokens for a user allowed Haiku.
 */
import { GatewayError, shapeText, unionReads, type BatchSubmission, type JsonReads, type RequestContext } from '../../core/index.js';
import { CAP_READS, capOver, withCap, type CapOver } from './caps.js';
import type { EffectiveLimits } from './limits.js';
import { agentRefusal, capRefusal, hasPromptLimits, modelRefusal, modelRequired, promptRefusal } from './rules.js';

type Inline = NonNullable<BatchSubmission['inline']>;

/** What a batch came to: the first refusal, in request order; or, clamped, the largest cap lowered. */
export interface BatchJudgement {
  readonly refusal?: GatewayError;
  readonly clamped?: CapOver;
}

/** What each request is judged on without its prompt: the model (or agent) and every cap. */
const REQUEST_READS: JsonReads = unionReads({ members: { model: { text: true }, agent_id: { text: true } } }, CAP_READS);

/** The reads per place a provider names; providers hand the same frozen object every time. */
const readsMemo = new WeakMap<Inline, JsonReads>();

function readsFor(inline: Inline): JsonReads {
  let reads = readsMemo.get(inline);
  if (!reads) {
    const items = { items: nested(inline.body, REQUEST_READS) };
    reads = nested(inline.list, items);
    readsMemo.set(inline, reads);
  }
  return reads;
}

/** The same for a single request's body: its caps (its model is not read there). */
const singleReadsMemo = new WeakMap<readonly string[], JsonReads>();

function singleReadsFor(path: readonly string[]): JsonReads {
  let reads = singleReadsMemo.get(path);
  if (!reads) {
    reads = nested(path, CAP_READS);
    singleReadsMemo.set(path, reads);
  }
  return reads;
}

function nested(path: readonly string[], reads: JsonReads): JsonReads {
  return path.reduceRight<JsonReads>((inner, key) => ({ members: { [key]: inner } }), reads);
}

function plainObject(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function at(value: unknown, path: readonly string[]): unknown {
  for (const key of path) {
    const object = plainObject(value);
    value = object && Object.hasOwn(object, key) ? object[key] : undefined;
  }
  return value;
}

/** A copy of `value` with what is at `path` replaced; only the objects on the path are copied. */
function replacedAt(value: unknown, path: readonly string[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [key, ...rest] = path;
  const object = plainObject(value) ?? {};
  return { ...object, [key]: replacedAt(object[key], rest, replacement) };
}

/** Where the `i`th request's body is, as a field prefix: `requests[3].params.`. */
function placeOf(inline: Inline, i: number): string {
  return [`${inline.list.join('.')}[${i}]`, ...inline.body].join('.') + '.';
}

/**
 * Judges every generation `batch` holds in the body: each request at `inline`, and the one
 * at `single`. A body that is no batch (`requests` not an array, an entry without `params`)
 * is left to the upstream, which refuses it. With `max_tokens_action: clamp`, caps over
 * the maximum are lowered in every request and the body replaced, as for a single request.
 */
export function judgeBatch(ctx: RequestContext, batch: BatchSubmission, limits: EffectiveLimits, charsPerToken: number): BatchJudgement {
  const one = batch.single ? judgeSingle(ctx, batch.single, limits, charsPerToken) : {};
  if (one.refusal || !batch.inline) return one;
  const many = judgeInline(ctx, batch.inline, batch, limits, charsPerToken);
  return many.refusal || !one.clamped || (many.clamped && larger(many.clamped.value, one.clamped.value)) ? many : one;
}

function judgeInline(ctx: RequestContext, inline: Inline, batch: BatchSubmission, limits: EffectiveLimits, charsPerToken: number): BatchJudgement {
  const requests = at(ctx.jsonPick(readsFor(inline)), inline.list);
  if (!Array.isArray(requests)) return {};
  // Prompt sizes need the text: the whole body, exactly, only when a limit asks for it.
  const exact = hasPromptLimits(limits) ? at(ctx.json(), inline.list) : undefined;
  const max = limits.maxTokens;
  let worst: { over: CapOver; where: string } | undefined;
  for (let i = 0; i < requests.length; i++) {
    const request = plainObject(at(requests[i], inline.body));
    if (!request) continue;
    const where = placeOf(inline, i);
    const refusal = ownModelRefusal(request, where, batch, limits);
    if (refusal) return { refusal };
    const over = max === undefined ? undefined : capOver(request, max);
    if (over && max !== undefined) {
      if (!limits.clamp) return { refusal: capRefusal(over, max, where) };
      if (!worst || larger(over.value, worst.over.value)) worst = { over, where };
    }
    const prompt = Array.isArray(exact) ? plainObject(at(exact[i], inline.body)) : undefined;
    const tooLong = prompt && promptRefusal(prompt, limits, charsPerToken, where);
    if (tooLong) return { refusal: tooLong };
  }
  if (!worst || max === undefined) return {};
  return lowerCaps(ctx, inline, max) ? { clamped: worst.over } : { refusal: capRefusal(worst.over, max, worst.where) };
}

/**
 * The refusal of the model or agent a request names for itself; one naming neither runs on
 * the batch's, or, where the batch names none either, on whatever the upstream picks.
 */
function ownModelRefusal(request: Record<string, unknown>, where: string, batch: BatchSubmission, limits: EffectiveLimits): GatewayError | undefined {
  if (typeof request.model === 'string') {
    const named = shapeText(request.model);
    return modelRefusal(batch.modelName ? batch.modelName(named) : named, limits, `${where}model`);
  }
  if (typeof request.agent_id === 'string') return agentRefusal(shapeText(request.agent_id), limits, `${where}agent_id`);
  return batch.model || batch.agent ? undefined : modelRequired(limits, where);
}

/** The one generation's body at `path`: its caps and prompt, as a single request's (its model is the submission's). */
function judgeSingle(ctx: RequestContext, path: readonly string[], limits: EffectiveLimits, charsPerToken: number): BatchJudgement {
  const request = plainObject(at(ctx.jsonPick(singleReadsFor(path)), path));
  if (!request) return {};
  const where = path.join('.') + '.';
  const max = limits.maxTokens;
  const over = max === undefined ? undefined : capOver(request, max);
  if (over && max !== undefined && !limits.clamp) return { refusal: capRefusal(over, max, where) };
  const prompt = hasPromptLimits(limits) ? plainObject(at(ctx.json(), path)) : undefined;
  const tooLong = prompt && promptRefusal(prompt, limits, charsPerToken, where);
  if (tooLong) return { refusal: tooLong };
  if (!over || max === undefined) return {};
  return lowerSingle(ctx, path, max) ? { clamped: over } : { refusal: capRefusal(over, max, where) };
}

/** The header shows the largest cap lowered, as `capOver` picks within one request. */
function larger(value: unknown, than: unknown): boolean {
  return typeof value === 'number' && !(typeof than === 'number' && than >= value);
}

/** Replaces the body with every request's caps over `max` lowered; false if none could be. */
function lowerCaps(ctx: RequestContext, inline: Inline, max: number): boolean {
  // Rebuilt from the shape where it can be: the prompts' text is copied, not decoded.
  const { value, strings } = ctx.rewritableBody();
  const body = plainObject(value);
  const requests = at(body, inline.list);
  if (!body || !Array.isArray(requests)) return false;
  let lowered = false;
  const capped = requests.map((entry) => {
    const request = plainObject(at(entry, inline.body));
    const rewritten = request && withCap(request, max);
    if (!rewritten) return entry;
    lowered = true;
    return replacedAt(entry, inline.body, rewritten);
  });
  if (lowered) ctx.replaceBody(strings.serialize(replacedAt(body, inline.list, capped)));
  return lowered;
}

/** Replaces the body with the caps over `max` of the one request at `path` lowered; false if none could be. */
function lowerSingle(ctx: RequestContext, path: readonly string[], max: number): boolean {
  const { value, strings } = ctx.rewritableBody();
  const request = plainObject(at(value, path));
  const rewritten = request && withCap(request, max);
  if (!rewritten) return false;
  ctx.replaceBody(strings.serialize(replacedAt(value, path, rewritten)));
  return true;
}
