/**
 * Today's counts (UTC day) per user and per workspace, for `GET /v1/usage`. Lives in the
 * runtime's shared state so a reload keeps the day's numbers; with several replicas each
 * counts its own traffic (the rate-limit store is the cross-replica one).
 */
import type { Outcome, SharedState } from '../../core/index.js';

export interface Counts {
  requests: number;
  /** Requests that ended with status 400 or above (rejected, failed, aborted). */
  errors: number;
  tokens_in: number;
  tokens_out: number;
  cache_creation_tokens: number;
  cache_read_tokens: number;
  /** Priced cost, USD (see `filters/cost`). */
  cost_usd: number;
}

export interface Tally extends Counts {
  by_provider: Record<string, Counts>;
}

function zero(): Counts {
  return { requests: 0, errors: 0, tokens_in: 0, tokens_out: 0, cache_creation_tokens: 0, cache_read_tokens: 0, cost_usd: 0 };
}

function add(c: Counts, o: Outcome, costNanos: number): void {
  c.requests++;
  if (o.status >= 400) c.errors++;
  c.tokens_in += o.usage.inputTokens;
  c.tokens_out += o.usage.outputTokens;
  c.cache_creation_tokens += o.usage.cacheCreationTokens;
  c.cache_read_tokens += o.usage.cacheReadTokens;
  // Summed in nano-USD and rounded back so repeated float additions do not drift.
  c.cost_usd = Math.round(c.cost_usd * 1e9 + costNanos) / 1e9;
}

/** Add one request to `key`'s tally in `map` and to its provider's. */
function count(map: Map<string, Tally>, key: string, provider: string, o: Outcome, costNanos: number): void {
  let t = map.get(key);
  if (!t) map.set(key, (t = { ...zero(), by_provider: {} }));
  add(t, o, costNanos);
  add((t.by_provider[provider] ??= zero()), o, costNanos);
}

let dayCache = { from: 0, to: 0, day: '' };

/** `YYYY-MM-DD` (UTC) of an epoch ms; memoised for the day, as every request asks. */
function utcDay(ms: number): string {
  if (ms < dayCache.from || ms >= dayCache.to) {
    const from = ms - (ms % 86_400_000);
    dayCache = { from, to: from + 86_400_000, day: new Date(from).toISOString().slice(0, 10) };
  }
  return dayCache.day;
}

export class DailyUsage {
  private day = utcDay(Date.now());
  private readonly users = new Map<string, Tally>();
  private readonly workspaces = new Map<string, Tally>();

  record(user: string, workspace: string, outcome: Outcome, costNanos = 0, now = Date.now()): void {
    this.roll(now);
    const provider = outcome.provider ?? 'none';
    count(this.users, user, provider, outcome, costNanos);
    count(this.workspaces, workspace, provider, outcome, costNanos);
  }

  /** The caller's counts since 00:00 UTC. */
  snapshot(user: string, workspace: string, now = Date.now()): { period: 'day'; since: string; user: Tally; workspace: Tally } {
    this.roll(now);
    const empty = (): Tally => ({ ...zero(), by_provider: {} });
    return {
      period: 'day',
      since: `${this.day}T00:00:00.000Z`,
      user: structuredClone(this.users.get(user) ?? empty()),
      workspace: structuredClone(this.workspaces.get(workspace) ?? empty()),
    };
  }

  private roll(now: number): void {
    const day = utcDay(now);
    if (day === this.day) return;
    this.day = day;
    this.users.clear();
    this.workspaces.clear();
  }
}

export function dailyUsage(shared: SharedState): DailyUsage {
  return shared.get('audit.daily-usage', () => new DailyUsage());
}
