/**
 * The `resilience:` block: its YAML shape, its defaults, and the merge of a route's
 * override over a provider's settings into one resolved {@link UpstreamPolicy}, done once
 * per config generation so a request only reads numbers.
 */

/** What a retry may be triggered by. `timeout` is the response-head timeout only. */
export type RetryOn = 'connection' | '429' | '5xx' | 'timeout';

/** `resilience.timeouts`, in milliseconds; absent means no gateway timer for that phase. */
export interface TimeoutsConfig {
  /** TCP/TLS connect; a property of the provider's connection pool, so provider-level only. */
  connect_ms?: number;
  /** From sending the request to the response head (a non-streamed body included). */
  headers_ms?: number;
  /** Longest silence between two chunks of a streamed body. */
  idle_ms?: number;
  /** The whole upstream exchange: every attempt, backoff and the body to its last byte. */
  total_ms?: number;
}

/** `resilience.retry`. */
export interface RetryConfig {
  /** Retries on the same target after the first attempt (0: none). */
  retries?: number;
  on?: RetryOn[];
  /** First backoff ceiling; doubles per retry (full jitter: a random wait in [0, ceiling]). */
  base_ms?: number;
  max_backoff_ms?: number;
  /** A longer upstream `retry-after` is not waited out: the target is given up instead. */
  max_retry_after_ms?: number;
}

/** `resilience.retry_budget`: concurrent retries may be at most `percent` of active requests, but always `min_concurrency`. */
export interface RetryBudgetConfig {
  percent?: number;
  min_concurrency?: number;
}

/** `resilience.breaker`; the breaker is off unless this block is present. */
export interface BreakerConfig {
  consecutive_failures?: number;
  /** Failure ratio (0–1) over `window_ms` that opens the breaker, once `min_requests` were seen. */
  error_rate?: number;
  window_ms?: number;
  min_requests?: number;
  /** How long the breaker stays open before letting a probe through. */
  cooldown_ms?: number;
  half_open_probes?: number;
}

/** A provider entry's `resilience:` block. */
export interface ResilienceConfig {
  timeouts?: TimeoutsConfig;
  /** Most connections the provider's pool opens to one origin (a stream holds one throughout); provider-level only. */
  max_connections?: number;
  retry?: RetryConfig;
  retry_budget?: RetryBudgetConfig;
  breaker?: BreakerConfig;
}

/** A route's `resilience:` block: per-request settings only (the pool and the per-target state stay the provider's). */
export interface RouteResilienceConfig {
  timeouts?: Omit<TimeoutsConfig, 'connect_ms'>;
  retry?: RetryConfig;
}

/** One entry of a route's or a model alias's `targets:` list. */
export interface TargetEntry {
  /** A provider instance name. */
  provider: string;
  /** The model sent to this target; the request's (or alias's) when absent. */
  model?: string;
  /** Share of first choices among targets of the same priority (default 1). */
  weight?: number;
  /** Lower is tried first; equal priorities are balanced by weight. Default: the entry's position. */
  priority?: number;
}

/** Resolved settings for one target as one route uses it; times in ms, 0 = no timer. */
export interface UpstreamPolicy {
  readonly headersMs: number;
  readonly idleMs: number;
  readonly totalMs: number;
  readonly retries: number;
  readonly retryOn: ReadonlySet<RetryOn>;
  readonly baseMs: number;
  readonly maxBackoffMs: number;
  readonly maxRetryAfterMs: number;
  readonly budget: BudgetSettings;
  readonly breaker: BreakerSettings | undefined;
}

export interface BudgetSettings {
  readonly percent: number;
  readonly minConcurrency: number;
}

export interface BreakerSettings {
  readonly consecutiveFailures: number;
  readonly errorRate: number;
  readonly windowMs: number;
  readonly minRequests: number;
  readonly cooldownMs: number;
  readonly halfOpenProbes: number;
}

/** The defaults, as documented in the README. Retries are opt-in: SDKs retry too, and retries multiply. */
export const DEFAULTS = {
  retry: { retries: 0, on: ['connection', '429', '5xx'] as RetryOn[], base_ms: 200, max_backoff_ms: 5_000, max_retry_after_ms: 10_000 },
  retry_budget: { percent: 20, min_concurrency: 3 },
  breaker: { consecutive_failures: 5, error_rate: 0.5, window_ms: 30_000, min_requests: 20, cooldown_ms: 30_000, half_open_probes: 1 },
} as const;

/** Merge a route's override over a provider's block, key by key, and fill in the defaults. */
export function resolvePolicy(provider: ResilienceConfig | undefined, route: RouteResilienceConfig | undefined): UpstreamPolicy {
  const t = { ...provider?.timeouts, ...route?.timeouts };
  const r = { ...DEFAULTS.retry, ...provider?.retry, ...route?.retry };
  const b = { ...DEFAULTS.retry_budget, ...provider?.retry_budget };
  const c = provider?.breaker ? { ...DEFAULTS.breaker, ...provider.breaker } : undefined;
  return {
    headersMs: t.headers_ms ?? 0,
    idleMs: t.idle_ms ?? 0,
    totalMs: t.total_ms ?? 0,
    retries: r.retries,
    retryOn: new Set(r.on),
    baseMs: r.base_ms,
    maxBackoffMs: r.max_backoff_ms,
    maxRetryAfterMs: r.max_retry_after_ms,
    budget: { percent: b.percent, minConcurrency: b.min_concurrency },
    breaker: c && {
      consecutiveFailures: c.consecutive_failures,
      errorRate: c.error_rate,
      windowMs: c.window_ms,
      minRequests: c.min_requests,
      cooldownMs: c.cooldown_ms,
      halfOpenProbes: c.half_open_probes,
    },
  };
}

/** Whether the policy asks for nothing beyond a plain single call (the fast path). */
export function isPlain(p: UpstreamPolicy): boolean {
  return p.headersMs === 0 && p.idleMs === 0 && p.totalMs === 0 && p.retries === 0 && p.breaker === undefined;
}
