/**
 * An Envoy-style retry budget for one target: retries in flight may be at most `percent`
 * of the requests active on the target, with `minConcurrency` always allowed. During an
 * outage every request fails, so retries stay a bounded fraction of the traffic instead
 * of multiplying it.
 */
import type { BudgetSettings } from './config.js';

export class RetryBudget {
  /** Requests currently using the target (first attempts, retries and streaming bodies). */
  private active = 0;
  /** Of those, the ones on a retry. */
  private retrying = 0;

  enter(): void {
    this.active++;
  }

  leave(): void {
    this.active--;
  }

  /** Take a retry slot if the budget allows; pair with {@link endRetry}. */
  tryRetry(s: BudgetSettings): boolean {
    const cap = Math.max(s.minConcurrency, Math.floor((this.active * s.percent) / 100));
    if (this.retrying >= cap) return false;
    this.retrying++;
    return true;
  }

  endRetry(): void {
    this.retrying--;
  }

  get snapshot(): { active: number; retrying: number } {
    return { active: this.active, retrying: this.retrying };
  }
}
