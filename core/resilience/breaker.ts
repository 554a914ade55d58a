/**
 * A circuit breaker for one target. Closed: requests pass and results are counted.
 * Open (after `consecutiveFailures` in a row, or an error rate over the window once
 * `minRequests` were seen): requests fail fast. After `cooldownMs` it is half-open: up to
 * `halfOpenProbes` requests probe; a success closes it, a failure opens it again.
 * Settings come in with each call, so a reload retunes a breaker without resetting it.
 */
import type { BreakerSettings } from './config.js';

export type CircuitState = 'closed' | 'open' | 'half_open';
/** `pass`: closed; `probe`: a half-open trial, report its result; `reject`: fail fast. */
export type Admission = 'pass' | 'probe' | 'reject';
/** `neutral`: says nothing about the target's health (429, client abort). */
export type AttemptResult = 'success' | 'failure' | 'neutral';

const BUCKETS = 10;

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private openedAt = 0;
  private consecutive = 0;
  private probes = 0;
  // A ring of BUCKETS buckets covering the window: request and failure counts per slice.
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly failures = new Array<number>(BUCKETS).fill(0);
  private readonly stamps = new Array<number>(BUCKETS).fill(-1);

  constructor(
    private readonly onTransition: (from: CircuitState, to: CircuitState) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The state now; an open breaker whose cool-down is over reads as half-open. */
  state(s: BreakerSettings): CircuitState {
    if (this.current === 'open' && this.now() - this.openedAt >= s.cooldownMs) this.move('half_open');
    return this.current;
  }

  admit(s: BreakerSettings): Admission {
    const state = this.state(s);
    if (state === 'closed') return 'pass';
    if (state === 'half_open' && this.probes < s.halfOpenProbes) {
      this.probes++;
      return 'probe';
    }
    return 'reject';
  }

  record(s: BreakerSettings, result: AttemptResult, probe: boolean): void {
    if (probe) this.probes = Math.max(0, this.probes - 1);
    if (result === 'neutral') return;
    if (this.current === 'half_open') {
      // Only a probe's result decides; stragglers admitted before the breaker opened do not.
      if (probe) this.move(result === 'success' ? 'closed' : 'open');
      return;
    }
    if (this.current === 'open') return;
    this.count(s, result === 'failure');
    if (result === 'success') {
      this.consecutive = 0;
      return;
    }
    this.consecutive++;
    if (this.consecutive >= s.consecutiveFailures || this.overRate(s)) this.move('open');
  }

  /** Milliseconds until an open breaker lets a probe through (0 when not open). */
  retryInMs(s: BreakerSettings): number {
    return this.state(s) === 'open' ? Math.max(0, s.cooldownMs - (this.now() - this.openedAt)) : 0;
  }

  snapshot(s: BreakerSettings): Record<string, unknown> {
    const state = this.state(s);
    const { requests, failures } = this.totals(s);
    return {
      state,
      consecutive_failures: this.consecutive,
      window: { requests, failures },
      ...(state === 'open' ? { retry_in_ms: Math.round(this.retryInMs(s)) } : {}),
    };
  }

  private move(to: CircuitState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    if (to === 'open') this.openedAt = this.now();
    if (to !== 'half_open') this.probes = 0;
    if (to === 'closed') {
      this.consecutive = 0;
      this.requests.fill(0);
      this.failures.fill(0);
      this.stamps.fill(-1);
    }
    this.onTransition(from, to);
  }

  private count(s: BreakerSettings, failed: boolean): void {
    const slice = s.windowMs / BUCKETS;
    const stamp = Math.floor(this.now() / slice);
    const i = stamp % BUCKETS;
    if (this.stamps[i] !== stamp) {
      this.stamps[i] = stamp;
      this.requests[i] = 0;
      this.failures[i] = 0;
    }
    this.requests[i]++;
    if (failed) this.failures[i]++;
  }

  private totals(s: BreakerSettings): { requests: number; failures: number } {
    const oldest = Math.floor(this.now() / (s.windowMs / BUCKETS)) - BUCKETS + 1;
    let requests = 0;
    let failures = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.stamps[i] < oldest) continue;
      requests += this.requests[i];
      failures += this.failures[i];
    }
    return { requests, failures };
  }

  private overRate(s: BreakerSettings): boolean {
    const { requests, failures } = this.totals(s);
    return requests >= s.minRequests && failures / requests >= s.errorRate;
  }
}
