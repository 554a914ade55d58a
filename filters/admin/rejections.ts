/**
 * Rate-limit and budget rejections per hour and per user, for the dashboard. Counted by
 * the admin filter's `onComplete` in the runtime's shared state (it survives reloads);
 * this process's traffic only, the last seven days. Prometheus has the same counts as
 * `gateway_rate_limit_rejections_total` for fleet-wide views.
 */
import type { SharedState } from '../../core/index.js';

const HOUR = 3_600_000;
const KEEP_HOURS = 7 * 24;

/** One hour's rejections. */
export interface HourCount {
  hour: string;
  rate_limit: number;
  budget: number;
}

export class Rejections {
  private readonly hours = new Map<number, { rate_limit: number; budget: number }>();
  private readonly users = new Map<string, number>();

  record(kind: 'rate_limit' | 'budget', user: string, at = Date.now()): void {
    const h = Math.floor(at / HOUR);
    let c = this.hours.get(h);
    if (!c) {
      this.hours.set(h, (c = { rate_limit: 0, budget: 0 }));
      for (const k of this.hours.keys()) if (k <= h - KEEP_HOURS) this.hours.delete(k);
    }
    c[kind]++;
    if (kind === 'rate_limit' && (this.users.has(user) || this.users.size < 10_000)) this.users.set(user, (this.users.get(user) ?? 0) + 1);
  }

  /** Hours in order, at least the last day's, with empty hours filled in (a chart needs a span). */
  series(now = Date.now()): HourCount[] {
    const last = Math.floor(now / HOUR);
    const first = Math.min(last - 23, ...this.hours.keys());
    const out: HourCount[] = [];
    for (let h = first; h <= last; h++) {
      const c = this.hours.get(h) ?? { rate_limit: 0, budget: 0 };
      out.push({ hour: new Date(h * HOUR).toISOString(), ...c });
    }
    return out;
  }

  byUser(): Record<string, number> {
    return Object.fromEntries([...this.users].sort((a, b) => b[1] - a[1]).slice(0, 20));
  }
}

export function rejections(shared: SharedState): Rejections {
  return shared.get('admin.rejections', () => new Rejections());
}
