/**
 * Rate-limit and budget rejections per hour and per user, for the dashboard. Counted by
 * the admin filter's `onComplete` in the runtime's shared state (it survives reloads);
 * this process's traffic only, the last seven days. Prometheus has the same counts as
 * `gateway_rate_limit_rejections_total` for fleet-wide views.
 */
import type { SharedState } from '../../core/index.js';

const HOUR = 3_600_000;
const KEEP_HOURS = 7 * 24;
/** Most (hour, user) counts kept, as many distinct users' rejections are (user names come from identities). */
const MAX_USER_ENTRIES = 10_000;

/** One hour's rejections. */
export interface HourCount {
  hour: string;
  rate_limit: number;
  budget: number;
}

interface Hour {
  rate_limit: number;
  budget: number;
  /** Rate-limit rejections by user. */
  users: Map<string, number>;
}

export class Rejections {
  private readonly hours = new Map<number, Hour>();
  private userEntries = 0;

  record(kind: 'rate_limit' | 'budget', user: string, at = Date.now()): void {
    const h = Math.floor(at / HOUR);
    let c = this.hours.get(h);
    if (!c) {
      this.hours.set(h, (c = { rate_limit: 0, budget: 0, users: new Map() }));
      this.prune(h);
    }
    c[kind]++;
    if (kind !== 'rate_limit') return;
    const n = c.users.get(user);
    if (n !== undefined) c.users.set(user, n + 1);
    else if (this.userEntries < MAX_USER_ENTRIES) {
      c.users.set(user, 1);
      this.userEntries++;
    }
  }

  /** Forget the hours before the seven days that end with hour `last`. */
  private prune(last: number): void {
    for (const [k, c] of this.hours) {
      if (k > last - KEEP_HOURS) continue;
      this.userEntries -= c.users.size;
      this.hours.delete(k);
    }
  }

  /** The last seven days' hours that had rejections, in order, at least the last day's, with empty hours filled in (a chart needs a span). */
  series(now = Date.now()): HourCount[] {
    const last = Math.floor(now / HOUR);
    this.prune(last);
    let first = last - 23;
    for (const k of this.hours.keys()) if (k < first) first = k;
    const out: HourCount[] = [];
    for (let h = first; h <= last; h++) {
      const c = this.hours.get(h);
      out.push({ hour: new Date(h * HOUR).toISOString(), rate_limit: c?.rate_limit ?? 0, budget: c?.budget ?? 0 });
    }
    return out;
  }

  /** The 20 users with the most rate-limit rejections in the last seven days. */
  byUser(now = Date.now()): Record<string, number> {
    const last = Math.floor(now / HOUR);
    this.prune(last);
    const users = new Map<string, number>();
    for (const [k, c] of this.hours) if (k <= last) for (const [user, n] of c.users) users.set(user, (users.get(user) ?? 0) + n);
    return Object.fromEntries([...users].sort((a, b) => b[1] - a[1]).slice(0, 20));
  }
}

export function rejections(shared: SharedState): Rejections {
  return shared.get('admin.rejections', () => new Rejections());
}
