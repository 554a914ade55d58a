/**
 * The upstream call of one route, made resilient: targets tried in order (fallbacks,
 * weighted balancing), each attempt under its timers, retries with backoff while nothing
 * has reached the client and the retry budget allows, and every result reported to the
 * target's circuit breaker. Once a response is handed back its head is written, so from
 * then on nothing is retried: a failure mid-body ends the stream with the dialect's
 * error event (core's handler does that).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../context.js';
import { GatewayError, toGatewayError } from '../errors.js';
import type { Cancellation, ProviderResponse, RequestContext } from '../types.js';
import { isPlain, resolvePolicy, type UpstreamPolicy } from './config.js';
import type { ResilienceRegistry } from './registry.js';
import { backoffMs, breakerResult, retryReason, type AttemptEnd } from './retry.js';
import type { Target, TargetList } from './targets.js';
import { admitSideCall, type SideCallAdmission } from './side-call.js';
import { AttemptTimer, byPhase, Deadline, timedBody, timeoutPhase } from './timeouts.js';

/**
 * Serve the request on `target`, using `ctx` (the attempt's view of the request) for
 * everything. One that sends a model other than the request's sets `ctx.model` to it:
 * each attempt's answer is priced and audited as what that attempt sent.
 */
export type Invoke = (target: Target, ctx: RequestContext) => Promise<ProviderResponse>;

/** Error bodies kept from a failed attempt, in case it turns out to be the answer. */
const MAX_ERROR_BODY = 256 * 1024;
const DEFAULT_POLICY = resolvePolicy(undefined, undefined);

type Tried = { served: ProviderResponse } | { failed: AttemptEnd } | { rejected: number };

/** A pass-through attempt on `target`. */
const passthroughOn: Invoke = (target, view) => {
  const provider = target.slot.provider;
  // The route's own provider inspected the request before the chain; another instance
  // may derive a different upstream path (its base URL), so it inspects too.
  if (target.name !== view.route.provider) provider.inspect?.(view);
  return provider.passthrough!(view);
};

export class RouteUpstream {
  constructor(
    private readonly registry: ResilienceRegistry,
    /** Per provider instance: its `resilience` merged with this route's override. */
    private readonly policies: ReadonlyMap<string, UpstreamPolicy>,
    /** A pass-through route's targets: its `targets:`, or just its provider. */
    readonly targets: TargetList | undefined,
  ) {}

  /**
   * How long one exchange with provider `name` may wait for its answer on this route: the
   * shorter of its `headers_ms` and `total_ms` (0: no gateway timer). For a provider's own
   * call made before the request is sent (a lookup), which no attempt's timers cover.
   */
  headTimeoutMs(name: string | undefined): number {
    const policy = name === undefined ? undefined : this.policies.get(name);
    if (!policy) return 0;
    const { headersMs, totalMs } = policy;
    return headersMs === 0 ? totalMs : totalMs === 0 ? headersMs : Math.min(headersMs, totalMs);
  }

  /**
   * A provider's own call to provider `name` for a request on this route (a lookup),
   * admitted by and reported to that target's breaker, and retried within its retry budget,
   * as an attempt is; throws while the breaker is open.
   */
  admitSideCall(name: string): SideCallAdmission {
    return admitSideCall(this.registry, name, this.policies.get(name) ?? DEFAULT_POLICY);
  }

  /** Whether some target has its credentials; a route with a keyless fallback still serves. */
  get configured(): boolean {
    return this.targets?.all.some((t) => t.slot.provider.configured) ?? true;
  }

  /** A pass-through request: other instances of the route's provider type are fallbacks. */
  passthrough(ctx: Context): Promise<ProviderResponse> {
    const list = this.targets!;
    // An upload's body is read as it is sent: there is nothing to send a second time.
    if (ctx.upload !== undefined) return this.plain(ctx, list.order().find((t) => t.slot.provider.configured) ?? list.primary, passthroughOn);
    return this.call(ctx, list, passthroughOn);
  }

  call(ctx: Context, list: TargetList, invoke: Invoke): Promise<ProviderResponse> {
    // The common case, nothing configured, adds no async layer of its own.
    if (list.size === 1 && isPlain(this.policy(list.primary))) return this.plain(ctx, list.primary, invoke);
    return this.resilient(ctx, list, invoke);
  }

  private async resilient(ctx: Context, list: TargetList, invoke: Invoke): Promise<ProviderResponse> {
    const order = list.order();
    const deadline = new Deadline(this.policy(order[0]).totalMs);
    let last: AttemptEnd | undefined;
    let lastTarget: Target | undefined;
    let reopensIn = Infinity;
    for (const target of order) {
      if (!target.slot.provider.configured || deadline.remaining() <= 0) continue;
      const tried = await this.tryTarget(ctx, target, deadline, invoke, lastTarget);
      if ('served' in tried) return tried.served;
      if ('rejected' in tried) {
        reopensIn = Math.min(reopensIn, tried.rejected);
        continue;
      }
      last = tried.failed;
      lastTarget = target;
    }
    if (last?.response) return last.response;
    if (last) throw last.error;
    const seconds = Number.isFinite(reopensIn) ? Math.max(1, Math.ceil(reopensIn / 1000)) : 1;
    throw new GatewayError('GW_ERR_UPSTREAM_CIRCUIT_OPEN', `Every target for this request is failing (circuit open); retry in ${seconds} s`, { headers: { 'retry-after': String(seconds) } });
  }

  private policy(target: Target): UpstreamPolicy {
    return this.policies.get(target.name) ?? DEFAULT_POLICY;
  }

  /** Nothing configured: one call, as if there were no resilience layer. */
  private plain(ctx: Context, target: Target, invoke: Invoke): Promise<ProviderResponse> {
    ctx.target = target.name;
    ctx.attempts = 1;
    const explain = (err: unknown): GatewayError => this.noteTimeout(target, byPhase(toGatewayError(err)));
    try {
      return invoke(target, ctx).catch((err: unknown) => {
        throw explain(err);
      });
    } catch (err) {
      return Promise.reject(explain(err));
    }
  }

  /** Attempts on one target: the first, then retries while they are due and allowed. */
  private async tryTarget(ctx: Context, target: Target, deadline: Deadline, invoke: Invoke, previous: Target | undefined): Promise<Tried> {
    const policy = this.policy(target);
    const state = this.registry.target(target.name);
    const breaker = policy.breaker;
    state.budget.enter();
    let holdsRetry = false;
    let handedOver = false;
    let last: AttemptEnd | undefined;
    try {
      for (let retry = 0; ; retry++) {
        const admission = breaker ? state.breaker.admit(breaker) : 'pass';
        if (admission === 'reject') {
          this.registry.metrics.circuitRejections.inc({ target: target.name });
          return last ? { failed: last } : { rejected: state.breaker.retryInMs(breaker!) };
        }
        if (retry === 0 && previous) this.registry.metrics.fallbacks.inc({ from: previous.name, to: target.name });
        ctx.target = target.name;
        ctx.attempts++;
        const timer = new AttemptTimer(ctx.signal, deadline, policy.idleMs);
        const end = await this.attempt(ctx, target, policy, timer, invoke);
        if (breaker) state.breaker.record(breaker, breakerResult(end), admission === 'probe');
        if (ctx.signal.aborted) {
          timer.dispose();
          discard(end);
          throw new GatewayError('GW_ERR_CLIENT_ABORT');
        }
        const reason = retryReason(end);
        if (!reason || !policy.retryOn.has(reason)) {
          if (end.error) {
            timer.dispose();
            throw end.error;
          }
          const body = end.response.body;
          if (body === null || body instanceof Uint8Array) {
            timer.dispose();
            return { served: end.response };
          }
          // The body takes over the timers and this target's budget place until it ends.
          const retrying = holdsRetry;
          handedOver = true;
          end.response.body = timedBody(body, timer, policy.idleMs, (error) => {
            if (error) this.noteTimeout(target, error);
            if (error && breaker && breakerResult({ error }) === 'failure') state.breaker.record(breaker, 'failure', false);
            if (retrying) state.budget.endRetry();
            state.budget.leave();
          });
          return { served: end.response };
        }
        // A retryable failure: keep its (small) body, it may still be the answer.
        if (end.response) timer.arm('idle', policy.idleMs);
        last = end.response ? { response: await keep(end.response, timer) } : end;
        timer.dispose();
        if (holdsRetry) state.budget.endRetry();
        holdsRetry = false;
        if (retry >= policy.retries) return { failed: last };
        const wait = backoffMs(policy, retry + 1, last);
        if (wait === undefined || wait >= deadline.remaining()) return { failed: last };
        if (!state.budget.tryRetry(policy.budget)) {
          this.registry.metrics.budgetExhausted.inc({ target: target.name });
          return { failed: last };
        }
        holdsRetry = true;
        this.registry.countRetry(target.name, reason);
        try {
          await sleep(wait, undefined, { signal: ctx.signal });
        } catch {
          throw new GatewayError('GW_ERR_CLIENT_ABORT');
        }
      }
    } finally {
      if (!handedOver) {
        if (holdsRetry) state.budget.endRetry();
        state.budget.leave();
      }
    }
  }

  /** One attempt, its head phase under the headers timer. */
  private async attempt(ctx: Context, target: Target, policy: UpstreamPolicy, timer: AttemptTimer, invoke: Invoke): Promise<AttemptEnd> {
    timer.arm('headers', policy.headersMs);
    try {
      const response = await timer.race(invoke(target, attemptView(ctx, timer.signal, timer.cancellation)));
      timer.stopWatching();
      timer.disarm();
      return { response };
    } catch (err) {
      timer.stopWatching();
      timer.disarm();
      return { error: this.noteTimeout(target, timer.explain(toGatewayError(err))) };
    }
  }

  private noteTimeout(target: Target, err: GatewayError): GatewayError {
    const phase = timeoutPhase(err);
    if (phase) this.registry.countTimeout(target.name, phase);
    return err;
  }
}

/**
 * The request as one attempt sees it: the same context, but `signal` (and `cancellation`) also fire when the
 * attempt's timers expire, so the provider's upstream call is cancelled with it.
 * A proxy rather than a copy: the provider's writes (`model`, slots) must land on the request.
 */
function attemptView(ctx: Context, signal: AbortSignal, cancellation: Cancellation): RequestContext {
  return new Proxy(ctx, {
    get: (target, key) => (key === 'signal' ? signal : key === 'cancellation' ? cancellation : Reflect.get(target, key, target)),
  });
}

/** Free a response nobody will read. */
function discard(end: AttemptEnd): void {
  const body = end.response?.body;
  if (body && !(body instanceof Uint8Array)) {
    const destroyable = body as { destroy?: () => void };
    if (typeof destroyable.destroy === 'function') destroyable.destroy();
    else void body[Symbol.asyncIterator]().return?.();
  }
}

/** The response with its body read into memory (bounded), under the attempt's timers. */
async function keep(response: ProviderResponse, timer: AttemptTimer): Promise<ProviderResponse> {
  const body = response.body;
  if (body === null || body instanceof Uint8Array) return response;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let whole = true;
  const read = async (): Promise<void> => {
    for await (const chunk of body) {
      if (size + chunk.length > MAX_ERROR_BODY) {
        whole = false;
        break;
      }
      chunks.push(chunk);
      size += chunk.length;
    }
  };
  try {
    await timer.race(read());
  } catch {
    whole = false;
    discard({ response });
  }
  const headers = { ...response.headers };
  // A body cut short must not go out under the upstream's length.
  if (!whole) delete headers['content-length'];
  return { ...response, headers, body: Buffer.concat(chunks, size) };
}
