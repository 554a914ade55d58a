/**
 * Per-target state that must outlive a config generation — breakers and retry budgets —
 * and the resilience metrics. One registry per runtime (kept in `env.shared`), keyed by
 * provider instance name, so a reload neither closes an open breaker nor forgets the
 * requests in flight.
 */
import type { Counter, Gauge } from 'prom-client';
import type { Logger } from '../logger.js';
import type { MetricsFactory } from '../metrics-factory.js';
import { CircuitBreaker, type CircuitState } from './breaker.js';
import { RetryBudget } from './budget.js';
import type { RetryOn } from './config.js';
import type { TimeoutPhase } from './timeouts.js';

/** The gauge's encoding of a circuit state. */
export const CIRCUIT_GAUGE: Readonly<Record<CircuitState, number>> = { closed: 0, half_open: 1, open: 2 };

export interface TargetState {
  readonly breaker: CircuitBreaker;
  readonly budget: RetryBudget;
}

export interface ResilienceMetrics {
  readonly retries: Counter<'target' | 'reason'>;
  readonly budgetExhausted: Counter<'target'>;
  readonly fallbacks: Counter<'from' | 'to'>;
  readonly timeouts: Counter<'target' | 'phase'>;
  readonly circuitRejections: Counter<'target'>;
}

export class ResilienceRegistry {
  readonly metrics: ResilienceMetrics;
  private readonly targets = new Map<string, TargetState>();
  private readonly circuitState: Gauge<'target'>;
  private readonly transitions: Counter<'target' | 'to'>;

  constructor(factory: MetricsFactory, private readonly log: Logger) {
    // Each worker has its own breaker: across a cluster, the worst state (a sum would read 4 for open).
    this.circuitState = factory.gauge({ name: 'gateway_circuit_state', help: 'Circuit breaker state per target: 0 closed, 1 half-open, 2 open', labelNames: ['target'], aggregator: 'max' });
    this.transitions = factory.counter({ name: 'gateway_circuit_transitions_total', help: 'Circuit breaker state changes per target, by the state entered', labelNames: ['target', 'to'] });
    this.metrics = {
      retries: factory.counter({ name: 'gateway_upstream_retries_total', help: 'Upstream retries per target, by trigger (connection, 429, 5xx, timeout)', labelNames: ['target', 'reason'] }),
      budgetExhausted: factory.counter({ name: 'gateway_retry_budget_exhausted_total', help: 'Retries not made because the target retry budget was spent', labelNames: ['target'] }),
      fallbacks: factory.counter({ name: 'gateway_upstream_fallbacks_total', help: 'Requests moved from one target to the next', labelNames: ['from', 'to'] }),
      timeouts: factory.counter({ name: 'gateway_upstream_timeouts_total', help: 'Upstream timeouts per target, by phase (connect, headers, idle, total)', labelNames: ['target', 'phase'] }),
      circuitRejections: factory.counter({ name: 'gateway_circuit_rejections_total', help: 'Attempts refused at once because the target circuit was open', labelNames: ['target'] }),
    };
  }

  /** The state of `name`, created on first use. */
  target(name: string): TargetState {
    let state = this.targets.get(name);
    if (!state) {
      const breaker = new CircuitBreaker((from, to) => {
        this.circuitState.set({ target: name }, CIRCUIT_GAUGE[to]);
        this.transitions.inc({ target: name, to });
        this.log[to === 'open' ? 'warn' : 'info']('circuit breaker state change', { target: name, from, to });
      });
      state = { breaker, budget: new RetryBudget() };
      this.targets.set(name, state);
    }
    return state;
  }

  /** Expose a breaker-enabled target in the gauge from the start, closed. */
  declare(name: string): void {
    if (this.targets.has(name)) return;
    this.target(name);
    this.circuitState.set({ target: name }, CIRCUIT_GAUGE.closed);
  }

  countRetry(target: string, reason: RetryOn): void {
    this.metrics.retries.inc({ target, reason });
  }

  countTimeout(target: string, phase: TimeoutPhase): void {
    this.metrics.timeouts.inc({ target, phase });
  }
}
