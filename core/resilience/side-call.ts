/**
 * A provider's own upstream call made for a request before the request is sent (a lookup),
 * seen by the serving target's resilience state as an attempt is: each try admitted by its
 * circuit breaker (refused at once while it is open) and its end counted as a failure, a
 * success or neither by the same rule, a body failing after its head counted as a failure
 * as a streamed body's is, and a try made again only with a place in the target's retry
 * budget. It goes to the same upstream with the same key, so its failures are the target's
 * health as much as an attempt's are, and its retries as much the target's load. Which ends
 * are worth one more try is here too.
 */
import { GatewayError } from '../errors.js';
import type { BreakerSettings, RetryOn, UpstreamPolicy } from './config.js';
import type { ResilienceRegistry, TargetState } from './registry.js';
import { breakerResult, statusResult } from './retry.js';
import { byPhase, timeoutPhase } from './timeouts.js';

/** How a side call ended: the status of the head it got, or why it got none. */
export type SideCallEnd = { readonly status: number; readonly error?: undefined } | { readonly error: GatewayError; readonly status?: undefined };

/**
 * A side call let through, from its first try to its end. Each try is reported once (later
 * reports of the same try are ignored); one not reported keeps a half-open breaker's probe
 * place taken. `release()` it once it is over, however it ended: until then it counts among
 * the target's active requests in its retry budget, as an attempt does.
 */
export interface SideCallAdmission {
  /** How the current try ended: the status of its head, or why it got none. */
  report(end: SideCallEnd): void;
  /**
   * The answer's body failed after its head was reported (cut, or the call's bound ran out):
   * a failure to the breaker, as an attempt's body failing mid-way is; nothing when the
   * failure is none of the target's (the client went away). Once.
   */
  reportBody(error: GatewayError): void;
  /**
   * Whether the call may be tried once more after `end` (one {@link retriesSideCall}
   * accepts), as an attempt's retry may: only with a place in the target's retry budget
   * (`resilience.retry_budget`). Allowed, the retry is counted in
   * `gateway_upstream_retries_total` under the target by its trigger and holds the place
   * until `release()`; refused, it is counted in `gateway_retry_budget_exhausted_total` and
   * `end`'s failure stands.
   */
  retry(end: SideCallEnd): boolean;
  /** Let the next try (one `retry` allowed) through the breaker; throws `GW_ERR_UPSTREAM_CIRCUIT_OPEN` while it is open. */
  again(): void;
  /** The call is over: its places in the target's retry budget are given back. Later calls do nothing. */
  release(): void;
}

/** No target to tell: every retry allowed, nothing counted. */
export const UNWATCHED: SideCallAdmission = { report() {}, reportBody() {}, retry: (end) => retriesSideCall(end), again() {}, release() {} };

class Admitted implements SideCallAdmission {
  private reported = false;
  private bodyReported = false;
  private holdsRetry = false;
  private released = false;
  constructor(
    private readonly registry: ResilienceRegistry,
    private readonly target: string,
    private readonly state: TargetState,
    private readonly policy: Pick<UpstreamPolicy, 'breaker' | 'budget'>,
    private probe: boolean,
  ) {
    state.budget.enter();
  }
  report(end: SideCallEnd): void {
    const settings = this.policy.breaker;
    if (this.reported || !settings) return;
    this.reported = true;
    const result = end.error ? breakerResult({ error: end.error }) : statusResult(end.status);
    this.state.breaker.record(settings, result, this.probe);
  }
  reportBody(error: GatewayError): void {
    const settings = this.policy.breaker;
    if (this.bodyReported || !settings) return;
    this.bodyReported = true;
    // As executor.ts's streamed body: its head already counted, the failure counts on its own.
    if (breakerResult({ error }) === 'failure') this.state.breaker.record(settings, 'failure', false);
  }
  retry(end: SideCallEnd): boolean {
    const reason = sideCallRetryReason(end);
    if (!reason || this.released) return false;
    if (this.holdsRetry) this.state.budget.endRetry();
    this.holdsRetry = this.state.budget.tryRetry(this.policy.budget);
    if (!this.holdsRetry) {
      this.registry.metrics.budgetExhausted.inc({ target: this.target });
      return false;
    }
    this.registry.countRetry(this.target, reason);
    return true;
  }
  again(): void {
    this.probe = admit(this.registry, this.target, this.state, this.policy.breaker);
    this.reported = false;
  }
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.holdsRetry) this.state.budget.endRetry();
    this.state.budget.leave();
  }
}

/** Whether the breaker lets a try through as its half-open probe; throws while it is open. */
function admit(registry: ResilienceRegistry, target: string, state: TargetState, settings: BreakerSettings | undefined): boolean {
  if (!settings) return false;
  const admission = state.breaker.admit(settings);
  if (admission === 'reject') {
    registry.metrics.circuitRejections.inc({ target });
    const seconds = Math.max(1, Math.ceil(state.breaker.retryInMs(settings) / 1000));
    throw new GatewayError('GW_ERR_UPSTREAM_CIRCUIT_OPEN', `Upstream is failing (circuit open); retry in ${seconds} s`, { headers: { 'retry-after': String(seconds) } });
  }
  return admission === 'probe';
}

/**
 * Admission for a side call to `target` under `policy` (its breaker, if configured, and its
 * retry budget); throws `GW_ERR_UPSTREAM_CIRCUIT_OPEN` while the breaker is open.
 */
export function admitSideCall(registry: ResilienceRegistry, target: string, policy: Pick<UpstreamPolicy, 'breaker' | 'budget'>): SideCallAdmission {
  const state = registry.target(target);
  const probe = admit(registry, target, state, policy.breaker);
  return new Admitted(registry, target, state, policy, probe);
}

/** 502, 503, 504: a gateway or the server itself down for a moment. */
const PASSING_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/**
 * Whether a side call's end is worth one more try: no connection (refused, reset before an
 * answer, a connect timeout) or a 502 / 503 / 504. Never a headers timeout (the call's
 * bound is spent) nor anything that came with an answer's bytes.
 */
export function retriesSideCall(end: SideCallEnd): boolean {
  return sideCallRetryReason(end) !== undefined;
}

/** The retry trigger (an attempt's, `retry.on`'s words) a side call's end worth one more try matches. */
function sideCallRetryReason(end: SideCallEnd): RetryOn | undefined {
  if (!end.error) return PASSING_STATUSES.has(end.status) ? '5xx' : undefined;
  return end.error.code === 'GW_ERR_UPSTREAM_UNREACHABLE' || timeoutPhase(byPhase(end.error)) === 'connect' ? 'connection' : undefined;
}
