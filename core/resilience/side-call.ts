/**
 * A provider's own upstream call made for a request before the request is sent (a lookup),
 * seen by the serving target's circuit breaker as an attempt is: admitted by it (refused at
 * once while it is open), its end counted as a failure, a success or neither by the same
 * rule. It goes to the same upstream with the same key, so its failures are the target's
 * health as much as an attempt's are. Which ends are worth one more try is here too.
 */
import { GatewayError } from '../errors.js';
import type { BreakerSettings, RetryOn } from './config.js';
import type { ResilienceRegistry } from './registry.js';
import { breakerResult, statusResult } from './retry.js';
import { byPhase, timeoutPhase } from './timeouts.js';

/** How a side call ended: the status of the head it got, or why it got none. */
export type SideCallEnd = { readonly status: number; readonly error?: undefined } | { readonly error: GatewayError; readonly status?: undefined };

/**
 * A side call let through; `report` how it ended, once (later reports are ignored). One not
 * reported keeps a half-open breaker's probe place taken.
 */
export interface SideCallAdmission {
  report(end: SideCallEnd): void;
  /**
   * The call is tried once more after `end` (one {@link retriesSideCall} accepts): counted in
   * `gateway_upstream_retries_total` under the target, as an attempt's retry is, by its trigger.
   */
  countRetry(end: SideCallEnd): void;
}

/** No target to tell. */
export const UNWATCHED: SideCallAdmission = { report() {}, countRetry() {} };

class Admitted implements SideCallAdmission {
  private reported = false;
  constructor(
    private readonly registry: ResilienceRegistry,
    private readonly target: string,
    /** Absent: no breaker configured, reports go nowhere; retries are counted all the same. */
    private readonly settings: BreakerSettings | undefined,
    private readonly probe: boolean,
  ) {}
  report(end: SideCallEnd): void {
    if (this.reported || !this.settings) return;
    this.reported = true;
    const result = end.error ? breakerResult({ error: end.error }) : statusResult(end.status);
    this.registry.target(this.target).breaker.record(this.settings, result, this.probe);
  }
  countRetry(end: SideCallEnd): void {
    const reason = sideCallRetryReason(end);
    if (reason) this.registry.countRetry(this.target, reason);
  }
}

/** Admission for a side call to `target`; throws `GW_ERR_UPSTREAM_CIRCUIT_OPEN` while its breaker is open. */
export function admitSideCall(registry: ResilienceRegistry, target: string, settings: BreakerSettings | undefined): SideCallAdmission {
  if (!settings) return new Admitted(registry, target, undefined, false);
  const breaker = registry.target(target).breaker;
  const admission = breaker.admit(settings);
  if (admission === 'reject') {
    registry.metrics.circuitRejections.inc({ target });
    const seconds = Math.max(1, Math.ceil(breaker.retryInMs(settings) / 1000));
    throw new GatewayError('GW_ERR_UPSTREAM_CIRCUIT_OPEN', `Upstream is failing (circuit open); retry in ${seconds} s`, { headers: { 'retry-after': String(seconds) } });
  }
  return new Admitted(registry, target, settings, admission === 'probe');
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
