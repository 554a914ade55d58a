/**
 * Adjustments (reconciles and hand-backs) summed per scope and sent together after a short
 * delay. On a shared store each adjustment is a round trip whose answer nobody reads, and
 * under load the requests of one scope (the whole gateway's above all) complete within a
 * few milliseconds of each other: their adjustments become one script run per scope per
 * delay instead of one per request and scope.
 *
 * What the delay changes: a refund frees its tokens, and an overdraft is charged, up to
 * `delayMs` later. Reads that report state (`GET /v1/usage`) flush first, so they see
 * every adjustment made before them.
 */
import type { MaybePromise, Scope } from './limiter.js';

interface Pending {
  scope: Scope;
  requests: number;
  tokens: number;
}

/** Sends one scope's summed adjustment; a failure is the store's to count. */
export type SendAdjustment = (scope: Scope, requests: number, tokens: number) => MaybePromise<unknown>;

export class AdjustmentBatch {
  /** Keyed by the scope's store group; the latest scope object carries the current limits. */
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: SendAdjustment,
    private readonly delayMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  add(scope: Scope, requests: number, tokens: number): void {
    const p = this.pending.get(scope.group);
    if (p) {
      p.scope = scope;
      p.requests += requests;
      p.tokens += tokens;
    } else {
      this.pending.set(scope.group, { scope, requests, tokens });
    }
    // Unref'd: pending adjustments never hold a stopping process open (close() flushes them).
    this.timer ??= setTimeout(() => void this.flush(), this.delayMs).unref();
  }

  /** Send everything pending now; resolves once the store has answered (or failed). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    const runs: Promise<unknown>[] = [];
    for (const { scope, requests, tokens } of batch.values()) {
      if (requests === 0 && tokens === 0) continue;
      try {
        const r = this.send(scope, requests, tokens);
        if (r instanceof Promise) runs.push(r.catch(this.onError));
      } catch (err) {
        this.onError(err);
      }
    }
    return Promise.all(runs).then(() => undefined);
  }
}
