/**
 * The limiter: reserve, then reconcile, over several scopes (the caller's user, the
 * whole gateway). Each scope's check-and-reserve is one atomic store operation; when one
 * scope admits and another refuses, the admitted reservation is handed back, so N
 * concurrent requests can never spend more than what is left. (Scopes have different
 * hash tags, hence different Redis Cluster slots, so they cannot share one script.)
 * Adjustments — reconciles and hand-backs — are made at once, or, given `batching` (a
 * shared store, where each is a round trip), summed per scope and sent together (core's
 * `DelayedBatch`).
 */
import { delayedBatchFor, onLateResult, type DelayedBatch, type MaybePromise, type RateLimitReason, type RateLimitSnapshot, type RateLimitWindow, type Store } from '../../core/index.js';
import { gcra, Mode, type DimensionState, type GcraResult } from './gcra.js';

/** Limits per window; `undefined` means unlimited in that dimension. */
export interface ScopeLimits {
  readonly requests?: number;
  readonly tokens?: number;
}

/** A set of counters with its own limits. */
export interface Scope {
  /** `user` or `global`: the metric label and the `/v1/usage` key. */
  readonly name: string;
  /** Store group (one hash tag): `rl:u:<user>`, `rl:global`. */
  readonly group: string;
  readonly limits: ScopeLimits;
}

/**
 * What one admitted request holds, to be reconciled when it completes: one request and
 * `costIn(scope, tokens)` tokens in each of `scopes`. The scopes' limits are fixed for their
 * config generation, so each scope's cost is worked out again rather than stored.
 */
export interface Reservation {
  readonly scopes: readonly Scope[];
  /** The estimate the request was admitted with. */
  readonly tokens: number;
}

export type Decision =
  | { readonly allowed: true; readonly reservation: Reservation; readonly snapshot: RateLimitSnapshot }
  | {
      readonly allowed: false;
      readonly scope: string;
      readonly reason: RateLimitReason;
      readonly retryMs: number;
      readonly snapshot: RateLimitSnapshot;
      /** Set when a limit of 0 refused: no wait will admit the request, `scope` and `reason` name that limit. */
      readonly permanent?: true;
    };

/** One scope's adjustments summed while a batch waits; the latest scope carries the current limits. */
interface PendingAdjustment {
  scope: Scope;
  requests: number;
  tokens: number;
}

/**
 * A scope's cells (gcra.ts): requests, their time, tokens, their time. On Redis the first
 * names the one key that holds all four (`aigw:{rl:u:alice}:bucket`); in memory each is a cell.
 */
export const GCRA_KEYS = ['bucket', 'bucket:requests-at', 'bucket:tokens', 'bucket:tokens-at'] as const;

export interface LimiterOptions {
  /** The window limits are per (default a minute). */
  readonly windowMs?: number;
  /** The clock of snapshots (default `Date.now`). */
  readonly clock?: () => number;
  /**
   * Adjustments summed per scope for `delayMs` on a store where each is a round trip
   * (`delayedBatchFor`; the memory store still makes each at once); `onError` hears a
   * batch's failures. Default: each at once.
   */
  readonly batching?: { readonly delayMs: number; readonly onError: (err: unknown) => void };
}

export class Limiter {
  private readonly windowMs: number;
  private readonly clock: () => number;
  private readonly batch: DelayedBatch<PendingAdjustment> | undefined;
  /** The script's arguments, refilled for every run (see `fill`). */
  private readonly argv: number[] = [0, 0, 0, 0, 0, 0];

  constructor(
    readonly store: Store,
    { windowMs = 60_000, clock = Date.now, batching }: LimiterOptions = {},
  ) {
    this.windowMs = windowMs;
    this.clock = clock;
    if (batching) {
      this.batch = delayedBatchFor<PendingAdjustment>(store, {
        delayMs: batching.delayMs,
        merge: (into, next) => {
          into.scope = next.scope;
          into.requests += next.requests;
          into.tokens += next.tokens;
        },
        send: ({ scope, requests, tokens }) => (requests === 0 && tokens === 0 ? undefined : this.adjust(scope, requests, tokens)),
        onError: batching.onError,
      });
    }
  }

  /** Reserve one request and `tokens` in every scope, or nothing. */
  reserve(scopes: readonly Scope[], tokens: number): MaybePromise<Decision> {
    // Plain loops: this runs on every request, and the memory store answers synchronously.
    // The results array is sized up front: `[]` + push reserves room for 17 elements.
    let n = 0;
    for (const s of scopes) if (limited(s)) n++;
    const active = n === scopes.length ? scopes : scopes.filter(limited);
    const runs = new Array<MaybePromise<GcraResult>>(n);
    let pending = false;
    for (let i = 0; i < n; i++) {
      const s = active[i];
      const run = this.store.run(gcra, s.group, GCRA_KEYS, this.args(Mode.Reserve, s, 1, costIn(s, tokens)));
      if (run instanceof Promise) pending = true;
      runs[i] = run;
    }
    if (!pending) return this.decide(active, tokens, runs as GcraResult[]);
    return Promise.allSettled(runs).then((settled) => {
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) {
        // Hand back what the scopes that answered did reserve, and what a scope that timed
        // out reserves when its store catches up, then report the failure.
        settled.forEach((r, i) => {
          if (r.status === 'fulfilled') {
            if (r.value.allowed) quiet(this.undo(active[i], costIn(active[i], tokens)));
          } else {
            onLateResult<GcraResult>(r.reason, (late) => {
              if (late.allowed) quiet(this.undo(active[i], costIn(active[i], tokens)));
            });
          }
        });
        throw (failed as PromiseRejectedResult).reason;
      }
      return this.decide(active, tokens, settled.map((r) => (r as PromiseFulfilledResult<GcraResult>).value));
    });
  }

  /** Replace the reserved estimate with what the request really used. */
  reconcile(reservation: Reservation, actualTokens: number): MaybePromise<void> {
    let pending: Promise<unknown>[] | undefined;
    for (const scope of reservation.scopes) {
      const tokens = costIn(scope, reservation.tokens);
      if (scope.limits.tokens === undefined || actualTokens === tokens) continue;
      if (this.batch) {
        this.batch.add(scope.group, { scope, requests: 0, tokens: actualTokens - tokens });
        continue;
      }
      const r = this.adjust(scope, 0, actualTokens - tokens);
      if (r instanceof Promise) (pending ??= []).push(r);
    }
    if (pending) return Promise.all(pending).then(() => undefined);
  }

  /** Each scope's state now, without spending anything (adjustments still pending sent first). */
  async peek(scopes: readonly Scope[]): Promise<Array<{ scope: Scope; result: GcraResult }>> {
    await this.batch?.flush();
    const active = scopes.filter(limited);
    const results = await Promise.all(active.map((s) => this.store.run(gcra, s.group, GCRA_KEYS, this.args(Mode.Peek, s, 0, 0))));
    return active.map((scope, i) => ({ scope, result: results[i] }));
  }

  /** The tightest state per dimension across scopes, as clients should see it. */
  snapshot(scopes: readonly Scope[], results: readonly GcraResult[]): RateLimitSnapshot {
    let requests: RateLimitWindow | undefined;
    let tokens: RateLimitWindow | undefined;
    for (let i = 0; i < scopes.length; i++) {
      requests = tighter(requests, scopes[i].limits.requests, results[i].requests);
      tokens = tighter(tokens, scopes[i].limits.tokens, results[i].tokens);
    }
    return { now: this.clock(), requests, tokens };
  }

  private decide(active: readonly Scope[], tokens: number, results: readonly GcraResult[]): MaybePromise<Decision> {
    let refused = -1;
    for (let i = 0; i < results.length && refused < 0; i++) if (!results[i].allowed) refused = i;
    const snapshot = this.snapshot(active, results);
    if (refused < 0) return { allowed: true, reservation: { scopes: active, tokens }, snapshot };
    // Hand back what the other scopes reserved; the refusal does not wait for it.
    results.forEach((r, i) => {
      if (r.allowed) quiet(this.undo(active[i], costIn(active[i], tokens)));
    });
    const retryMs = Math.max(...results.map((r) => r.retryMs));
    for (let i = 0; i < active.length; i++) {
      const limits = active[i].limits;
      if (limits.requests === 0) return { allowed: false, scope: active[i].name, reason: 'requests', retryMs, snapshot, permanent: true };
      if (limits.tokens === 0 && tokens > 0) return { allowed: false, scope: active[i].name, reason: 'tokens', retryMs, snapshot, permanent: true };
    }
    const decision: Decision = { allowed: false, scope: active[refused].name, reason: results[refused].denied === 1 ? 'requests' : 'tokens', retryMs, snapshot };
    return decision;
  }

  /** Send what is still pending (the pipeline is retiring). */
  close(): Promise<void> {
    return this.batch ? this.batch.flush() : Promise.resolve();
  }

  /** Hand back one request and `tokens`, reserved in `scope` by a request not admitted. */
  private undo(scope: Scope, tokens: number): MaybePromise<GcraResult> | undefined {
    if (!this.batch) return this.adjust(scope, -1, -tokens);
    this.batch.add(scope.group, { scope, requests: -1, tokens: -tokens });
  }

  /** Add signed costs without a check; a dimension with nothing to add is left alone. */
  private adjust(scope: Scope, requests: number, tokens: number): MaybePromise<GcraResult> {
    const requestLimit = requests === 0 ? -1 : (scope.limits.requests ?? -1);
    const tokenLimit = tokens === 0 ? -1 : (scope.limits.tokens ?? -1);
    return this.store.run(gcra, scope.group, GCRA_KEYS, this.fill(Mode.Adjust, requestLimit, tokenLimit, requests, tokens));
  }

  private args(mode: number, s: Scope, requestCost: number, tokenCost: number): number[] {
    return this.fill(mode, s.limits.requests ?? -1, s.limits.tokens ?? -1, requestCost, tokenCost);
  }

  /**
   * The script's arguments in the one array every run shares: a store reads them before
   * `run` returns (Store.run), and a request runs the script twice per scope.
   */
  private fill(mode: number, requestLimit: number, tokenLimit: number, requestCost: number, tokenCost: number): number[] {
    const a = this.argv;
    a[0] = mode;
    a[1] = this.windowMs;
    a[2] = requestLimit;
    a[3] = tokenLimit;
    a[4] = requestCost;
    a[5] = tokenCost;
    return a;
  }
}

/** A failed hand-back is already counted by the store; it must not become an unhandled rejection. */
function quiet(r: unknown): void {
  if (r instanceof Promise) r.catch(() => undefined);
}

/**
 * The tokens a request estimated at `tokens` reserves in `scope`: capped by the limit so a
 * large request can still run, except under a limit of 0, which refuses every request that
 * costs tokens (a cost of 0 never would be).
 */
function costIn(scope: Scope, tokens: number): number {
  const limit = scope.limits.tokens;
  return limit === undefined ? 0 : limit === 0 ? tokens : Math.min(tokens, limit);
}

function limited(s: Scope): boolean {
  return s.limits.requests !== undefined || s.limits.tokens !== undefined;
}

function tighter(current: RateLimitWindow | undefined, limit: number | undefined, state: DimensionState | undefined): RateLimitWindow | undefined {
  if (limit === undefined || !state) return current;
  if (current && current.remaining <= state.remaining) return current;
  return { limit, remaining: state.remaining, resetMs: state.resetMs };
}
