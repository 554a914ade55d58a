/**
 * What a Mistral conversation runs on, for a model policy judging an append or a restart
 * (`ctx.conversation`): those name no model, and run on the one the conversation began
 * with (or its agent's), so without this an allowlist would judge nothing. Learned two ways,
 * only when a policy asks: from the answer to a request it admitted (its `conversation_id`,
 * read by the usage meter that parses the answer anyway), kept in a bounded LRU; and on a
 * miss (a conversation begun before a restart of the gateway, or by a request no policy
 * watched) by asking the upstream, `GET /v1/conversations/{id}` with the gateway's key.
 */
import type { Dispatcher } from 'undici';
import { GrowingLru } from '../../core/stores/growing-lru.js';
import { answeredAt, retryAfterOf } from '../../core/retry-after.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKey, forwardUpstream, GatewayError, retriesSideCall, toGatewayError, upstreamError, type ConversationTarget, type RequestContext, type SideCallAdmission, type SideCallEnd, type UpstreamConversation, type UsageMeter } from '../../core/index.js';

/** A meter of a conversation's answer, which names the conversation it went to. */
export interface ConversationMeter extends UsageMeter {
  readonly conversationId: string | undefined;
}

/**
 * Conversations remembered per provider entry: a few MB at most. Held in a map that grows to
 * it: every OpenAI-type provider entry makes one at start-up, and most never see a conversation.
 */
const REMEMBERED = 10_000;
/** A conversation object holds instructions and tools, not its entries: larger is not one. */
const ANSWER_LIMIT = 1024 * 1024;

/** Longest pause before the lookup's second try. */
const RETRY_JITTER_MS = 100;

/** What a conversation id is made of (Mistral's are UUIDs); anything else is judged unknown. */
const CONVERSATION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The conversation a continuation names in its path. */
const CONTINUED = createKey<string>('openai.conversation.continued');
/** What a request a policy admitted runs on: its answer's conversation is remembered as running on it. */
const ADMITTED = createKey<ConversationTarget>('openai.conversation.admitted');

interface WireConversation {
  model?: unknown;
  agent_id?: unknown;
}

/** An agent's conversation runs on the agent, as a start naming it is judged; else on its model. */
function targetOfObject(value: unknown): ConversationTarget | undefined {
  const c = value as WireConversation | null;
  if (!c || typeof c !== 'object' || Array.isArray(c)) return undefined;
  if (typeof c.agent_id === 'string' && c.agent_id !== '') return { agent: c.agent_id };
  if (typeof c.model === 'string' && c.model !== '') return { model: c.model };
  return undefined;
}

/** Hands every reading to the answer's meter, and remembers its conversation when it ends. */
class RememberingMeter implements UsageMeter {
  constructor(
    private readonly inner: ConversationMeter,
    private readonly onEnd: (conversationId: string) => void,
  ) {}
  get usage() {
    return this.inner.usage;
  }
  get model() {
    return this.inner.model;
  }
  get streamError() {
    return this.inner.streamError;
  }
  get usageFinal() {
    return this.inner.usageFinal;
  }
  get estimatedOutputTokens() {
    return this.inner.estimatedOutputTokens;
  }
  write(chunk: Uint8Array): void {
    this.inner.write(chunk);
  }
  end(): void {
    this.inner.end();
    const id = this.inner.conversationId;
    if (id !== undefined && this.inner.streamError === undefined) this.onEnd(id);
  }
}

export class ConversationTargets implements UpstreamConversation {
  private readonly known = new GrowingLru<string, ConversationTarget>(REMEMBERED);

  constructor(
    private readonly pool: Dispatcher,
    private readonly basePath: string,
    private readonly auth: Readonly<Record<string, string>>,
  ) {}

  /** Marks `ctx` as continuing conversation `id` (the path's segment, as forwarded). */
  continues(ctx: RequestContext, id: string): void {
    ctx.set(CONTINUED, id);
  }

  async targetOf(ctx: RequestContext): Promise<ConversationTarget | undefined> {
    const id = ctx.get(CONTINUED);
    // Not a conversation id (`..`, escapes): never put in a path the gateway's key signs for.
    if (id === undefined || !CONVERSATION_ID.test(id)) return undefined;
    const target = this.known.get(id) ?? (await this.ask(ctx, id));
    if (target) {
      this.known.set(id, target);
      ctx.set(ADMITTED, target); // a restart's new conversation runs on it too, if admitted
    }
    return target;
  }

  remember(ctx: RequestContext): void {
    if (ctx.get(CONTINUED) !== undefined) return; // its target, once learned, is already held
    const target: ConversationTarget | undefined = ctx.model !== undefined ? { model: ctx.model } : ctx.agent !== undefined ? { agent: ctx.agent } : undefined;
    if (target) ctx.set(ADMITTED, target);
  }

  /**
   * The meter to give an answer: `meter` itself unless a policy admitted the request on what
   * it runs on, and the answer is a success whose conversation is worth remembering.
   */
  meterFor(ctx: RequestContext, status: number, meter: UsageMeter | undefined): UsageMeter | undefined {
    const target = ctx.get(ADMITTED);
    if (!target || status !== 200 || !meter || !('conversationId' in meter)) return meter;
    return new RememberingMeter(meter as ConversationMeter, (id) => this.known.set(id, target));
  }

  /**
   * The upstream's word on the conversation: undefined when it has none (an unknown id, an
   * answer naming no model or agent), which a policy refuses. A failure to answer (5xx, 429,
   * a timeout, a connection error) throws a retryable GatewayError instead: a 403 would tell
   * the client its turn is forbidden when it may be allowed a moment later. The lookup runs
   * before any attempt's timers, so it gets the route's own bound (`ctx.sideCallTimeoutMs`):
   * a hung upstream must not hold the request past the timeout its requests are given.
   * Within that bound it is tried once more when the first try got no connection or a
   * 502 / 503 / 504 without a `retry-after` (one asking for a wait is the client's to honour)
   * and the provider's retry budget has a place for it, as an attempt's retry needs; each
   * try goes through the provider's circuit breaker, as an attempt does, a body cut after a
   * 200 counts there as a failure, as a stream cut mid-way does, and the second try is
   * counted in `gateway_upstream_retries_total` as an attempt's retry is.
   */
  private async ask(ctx: RequestContext, id: string): Promise<ConversationTarget | undefined> {
    const ms = ctx.sideCallTimeoutMs;
    const timer = ms > 0 ? AbortSignal.timeout(ms) : undefined;
    const signal = timer ? AbortSignal.any([ctx.signal, timer]) : ctx.cancellation;
    // The timer, not the client, ended the call.
    const timedOut = (): boolean => timer?.aborted === true && !ctx.cancellation.aborted;
    const call = ctx.admitSideCall();
    try {
      for (let retried = false; ; retried = true) {
        const tried = await this.tryOnce(call, id, signal, timedOut, ms);
        if ('res' in tried) return await readTarget(call, tried.res, signal, timedOut, ms);
        const again = !retried && tried.retryable && call.retry(tried.end) && (await this.again(call, ctx, signal));
        if (!again) throw timedOut() ? lookupTimedOut(ms, tried.cause) : tried.failure;
      }
    } finally {
      call.release();
    }
  }

  /**
   * One try, its end reported to the breaker: the head of an answer worth reading, or the
   * failure it ended with (a 5xx, a 429, no connection, a timeout) and whether it is worth
   * one more try.
   */
  private async tryOnce(call: SideCallAdmission, id: string, signal: LookupSignal, timedOut: () => boolean, ms: number): Promise<{ res: LookupResponse } | FailedTry> {
    let res: LookupResponse;
    try {
      res = await forwardUpstream(this.pool, { method: 'GET', path: `${this.basePath}/v1/conversations/${id}`, headers: { accept: 'application/json', ...this.auth }, body: null, signal });
    } catch (err) {
      // forwardUpstream throws GW_ERR_UPSTREAM_UNREACHABLE / _TIMEOUT / GW_ERR_CLIENT_ABORT on its own.
      const failure = timedOut() ? lookupTimedOut(ms, err) : toGatewayError(err);
      const end = { error: failure };
      call.report(end);
      return { failure, cause: err, end, retryable: retriesSideCall(end) };
    }
    const end = { status: res.status };
    call.report(end);
    if (res.status < 500 && res.status !== 429) return { res };
    await bodyText(res.body, 0).catch(() => undefined); // let go; its text is not the client's
    const failure = lookupFailed(res.status, res.headers);
    return { failure, cause: failure, end, retryable: failure.headers?.['retry-after'] === undefined && retriesSideCall(end) };
  }

  /**
   * The second try let through after a short jittered pause (many lookups failing at once
   * do not all come back together), within the lookup's bound; false when the bound ran out
   * or the breaker, opened meanwhile, refuses it: the first try's failure stands.
   */
  private async again(call: SideCallAdmission, ctx: RequestContext, signal: LookupSignal): Promise<boolean> {
    try {
      await sleep(Math.floor(Math.random() * RETRY_JITTER_MS), undefined, { signal: signal instanceof AbortSignal ? signal : ctx.signal });
      call.again();
      return true;
    } catch {
      return false;
    }
  }
}

type LookupResponse = Awaited<ReturnType<typeof forwardUpstream>>;
type LookupSignal = AbortSignal | RequestContext['cancellation'];

/** A try that got no answer worth reading; `cause` is what a timeout of the lookup's bound names. */
interface FailedTry {
  readonly failure: GatewayError;
  readonly cause: unknown;
  readonly end: SideCallEnd;
  readonly retryable: boolean;
}

/**
 * The conversation's target from an answer whose head has come: from here on nothing is
 * tried again, and a body that fails is the breaker's failure as a stream cut mid-way is.
 */
async function readTarget(call: SideCallAdmission, res: LookupResponse, signal: LookupSignal, timedOut: () => boolean, ms: number): Promise<ConversationTarget | undefined> {
  let text: string | undefined;
  try {
    text = await bodyText(res.body, res.status === 200 ? ANSWER_LIMIT : 0);
  } catch (err) {
    const failure = timedOut() ? lookupTimedOut(ms, err) : upstreamError(err, signal, 'body');
    call.reportBody(failure);
    throw failure;
  }
  if (text === undefined) return undefined;
  try {
    return targetOfObject(JSON.parse(text));
  } catch {
    return undefined; // not the conversation object: nothing learned
  }
}

/** The lookup's own bound ran out. */
function lookupTimedOut(ms: number, cause: unknown): GatewayError {
  return new GatewayError('GW_ERR_UPSTREAM_TIMEOUT', `Upstream did not say within ${ms} ms which model this conversation runs on; retry later`, { cause });
}

/** A lookup the upstream failed to answer, as a 502 the SDKs retry, after the upstream's own `retry-after` when it sent one. */
function lookupFailed(status: number, headers: Record<string, string | string[]>): GatewayError {
  const after = retryAfterOf(headers['retry-after'], answeredAt(headers));
  return new GatewayError('GW_ERR_UPSTREAM_UNREACHABLE', `Upstream answered ${status} when asked which model this conversation runs on; retry later`, after === undefined ? {} : { headers: { 'retry-after': after } });
}

/** The body as text when it is at most `limit` bytes; otherwise undefined, the rest of it let go. */
async function bodyText(body: AsyncIterable<Uint8Array> | Uint8Array | null, limit: number): Promise<string | undefined> {
  if (!body) return undefined;
  if (body instanceof Uint8Array) return body.length <= limit ? Buffer.from(body).toString('utf8') : undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      (body as { destroy?: () => void }).destroy?.();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
