/**
 * The `budget` filter's config: USD budgets per user, per project and for the whole
 * gateway, each by day and/or by month (UTC), with alert thresholds and what to do at
 * 100 %. Budgets live in the filter's config, so a config reload applies them at once;
 * what was spent lives in the store and survives the reload.
 */
import { usdToNanos } from '../cost/price-book.js';

/** One scope's budget as written in the config. */
export interface BudgetEntry {
  daily_usd?: number;
  monthly_usd?: number;
  /** At 100 %: refuse further requests (`block`) or only alert (`alert`). */
  action?: 'block' | 'alert';
  /** Percentages that alert once per period. */
  thresholds?: number[];
}

export interface WebhookConfig {
  url: string;
  timeout_ms: number;
  /** Attempts after the first, with exponential backoff from `backoff_ms`. */
  retries: number;
  backoff_ms: number;
  headers: Record<string, string>;
}

/** Options under `filters[].config` for `budget`. */
export interface BudgetConfig {
  action: 'block' | 'alert';
  thresholds: number[];
  global?: BudgetEntry;
  users: Record<string, BudgetEntry>;
  projects: Record<string, BudgetEntry>;
  /** Applies to every user without an entry in `users`. */
  default_user?: BudgetEntry;
  /** Applies to every project without an entry in `projects`. */
  default_project?: BudgetEntry;
  webhook?: WebhookConfig;
  /** Request-body bytes per estimated input token, for the reservation. */
  bytes_per_token: number;
  /** Output tokens reserved when the request names no cap. */
  default_output_tokens: number;
  anonymous_user: string;
  /**
   * A request for a model the price book has no price for costs nothing, so no budget ever
   * stops it: `allow` lets it through (flagged by `cost`), `refuse` refuses it wherever a
   * `block` budget applies.
   */
  unpriced: 'allow' | 'refuse';
}

const entry = {
  type: 'object',
  additionalProperties: false,
  properties: {
    daily_usd: { type: 'number', minimum: 0 },
    monthly_usd: { type: 'number', minimum: 0 },
    action: { enum: ['block', 'alert'] },
    thresholds: { type: 'array', items: { type: 'number', exclusiveMinimum: 0, maximum: 1000 } },
  },
};

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    action: { enum: ['block', 'alert'], default: 'block' },
    thresholds: { type: 'array', items: { type: 'number', exclusiveMinimum: 0, maximum: 1000 }, default: [50, 80, 100] },
    global: entry,
    users: { type: 'object', additionalProperties: entry, default: {} },
    projects: { type: 'object', additionalProperties: entry, default: {} },
    default_user: entry,
    default_project: entry,
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        // Empty (an unset `${BUDGET_WEBHOOK_URL}`): no webhook, as an empty key or file elsewhere is none.
        url: { type: 'string', pattern: '^$|^https?://' },
        timeout_ms: { type: 'integer', minimum: 1, default: 5000 },
        retries: { type: 'integer', minimum: 0, maximum: 10, default: 3 },
        backoff_ms: { type: 'integer', minimum: 0, default: 1000 },
        headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
      },
    },
    bytes_per_token: { type: 'number', exclusiveMinimum: 0, default: 4 },
    default_output_tokens: { type: 'integer', minimum: 0, default: 4096 },
    anonymous_user: { type: 'string', minLength: 1, default: 'anonymous' },
    unpriced: { enum: ['allow', 'refuse'], default: 'allow' },
  },
} as const;

export type Scope = 'global' | 'user' | 'project';
export type Period = 'day' | 'month';

/** One budget: a scope, a name within it, a period, a limit. */
export interface Budget {
  readonly scope: Scope;
  /** The user or project name; `*` for global. */
  readonly name: string;
  readonly period: Period;
  readonly limitNanos: number;
  readonly limitUsd: number;
  readonly action: 'block' | 'alert';
  /** Percentages, ascending. */
  readonly thresholds: readonly number[];
  /** `thresholds` as spend in nano-USD, the store script's arguments. */
  readonly thresholdNanos: readonly number[];
  /** Its counters' store group (one hash tag): `bg:<scope initial>:<name>`. */
  readonly group: string;
}

/** The budgets one caller counts against, and those of them that can refuse. */
export interface BudgetList {
  readonly all: readonly Budget[];
  readonly blocking: readonly Budget[];
  /** `blocking` by store group, in the same order: each group is reserved in one script run. */
  readonly reserves: readonly ReserveGroup[];
}

/** Callers whose `default_user` / `default_project` expansion is remembered; past it, the memory starts over. */
const REMEMBERED_CALLERS = 10_000;

/** Every budget of one config generation, resolved once. */
export class Budgets {
  private readonly global: Budget[];
  private readonly users = new Map<string, Budget[]>();
  private readonly projects = new Map<string, Budget[]>();
  /** Per user, then per project (`''` for none): every request of a caller reads the same list. */
  private readonly lists = new Map<string, Map<string, BudgetList>>();
  private remembered = 0;

  constructor(private readonly config: BudgetConfig) {
    this.global = this.expand('global', '*', config.global);
    for (const [name, e] of Object.entries(config.users)) this.users.set(name, this.expand('user', name, e));
    for (const [name, e] of Object.entries(config.projects)) this.projects.set(name, this.expand('project', name, e));
  }

  /** True when no budget is configured at all. */
  get empty(): boolean {
    return this.global.length === 0 && this.users.size === 0 && this.projects.size === 0 && !this.config.default_user && !this.config.default_project;
  }

  /** The budgets a request by `user` on `project` counts against. */
  for(user: string, project: string | undefined): readonly Budget[] {
    return this.list(user, project).all;
  }

  /** The same, with its blocking budgets apart; the lists are shared and never change. */
  list(user: string, project: string | undefined): BudgetList {
    let byProject = this.lists.get(user);
    const found = byProject?.get(project ?? '');
    if (found) return found;
    const own = this.users.get(user) ?? this.expand('user', user, this.config.default_user);
    const proj = project === undefined ? [] : this.projects.get(project) ?? this.expand('project', project, this.config.default_project);
    const all = [...own, ...proj, ...this.global];
    const blocking = all.filter((b) => b.action === 'block');
    const made: BudgetList = { all, blocking, reserves: groupsOf(blocking) };
    if (this.remembered >= REMEMBERED_CALLERS) {
      this.lists.clear();
      this.remembered = 0;
      byProject = undefined;
    }
    if (!byProject) this.lists.set(user, (byProject = new Map()));
    byProject.set(project ?? '', made);
    this.remembered++;
    return made;
  }

  private expand(scope: Scope, name: string, e: BudgetEntry | undefined): Budget[] {
    if (!e) return [];
    const out: Budget[] = [];
    const thresholds = [...(e.thresholds ?? this.config.thresholds)].sort((a, b) => a - b);
    const group = `bg:${scope[0]}:${encodeURIComponent(name)}`;
    for (const [period, usd] of [['day', e.daily_usd], ['month', e.monthly_usd]] as const) {
      if (usd === undefined) continue;
      const limitNanos = usdToNanos(usd);
      const thresholdNanos = thresholds.map((t) => Math.ceil((limitNanos * t) / 100));
      out.push({ scope, name, period, limitNanos, limitUsd: usd, action: e.action ?? this.config.action, thresholds, thresholdNanos, group });
    }
    return out;
  }
}

/**
 * The blocking budgets of one store group (a user's day and month), reserved together, and
 * the reserve script's keys for the periods they are in.
 */
export class ReserveGroup {
  /** Each budget's limit in nano-USD, the reserve script's arguments after the estimate. */
  readonly limits: readonly number[];
  /** The period each budget was in at the last {@link at}. */
  spans: readonly PeriodSpan[] = [];
  /** `[spent, held]` of each span in turn. */
  keys: readonly string[] = [];

  constructor(
    readonly group: string,
    readonly budgets: readonly Budget[],
    /** Where this group's budgets start in a request's holds, which list the groups' budgets in turn. */
    readonly first: number,
  ) {
    this.limits = budgets.map((b) => b.limitNanos);
  }

  /**
   * Moves `spans` and `keys` to the periods `now` is in. They are replaced when a period
   * changes, never changed in place, so a request that kept them keeps its own.
   */
  at(clock: PeriodClock, now: number): this {
    let moved = this.spans.length === 0;
    for (let i = 0; i < this.budgets.length && !moved; i++) moved = clock.at(this.budgets[i].period, now) !== this.spans[i];
    if (moved) {
      this.spans = this.budgets.map((b) => clock.at(b.period, now));
      this.keys = this.spans.flatMap((s) => [s.keys[0], s.keys[1]]);
    }
    return this;
  }
}

/** `budgets` by store group, groups in order of first appearance. */
function groupsOf(budgets: readonly Budget[]): ReserveGroup[] {
  const byGroup = new Map<string, Budget[]>();
  for (const b of budgets) {
    const list = byGroup.get(b.group);
    if (list) list.push(b);
    else byGroup.set(b.group, [b]);
  }
  const groups: ReserveGroup[] = [];
  let first = 0;
  for (const [group, list] of byGroup) {
    groups.push(new ReserveGroup(group, list, first));
    first += list.length;
  }
  return groups;
}

/** A budget period: its id, bounds, and its counters' store keys. */
export interface PeriodSpan {
  readonly id: string;
  readonly start: Date;
  readonly end: Date;
  /** `[spent, held, fired]`, the budget script's keys. */
  readonly keys: readonly string[];
}

/** The period a moment falls in (UTC): its id for store keys, start and end. */
export function periodOf(period: Period, now: number): PeriodSpan {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  let id: string;
  let start: Date;
  let end: Date;
  if (period === 'day') {
    start = new Date(Date.UTC(y, m, d.getUTCDate()));
    id = `d:${start.toISOString().slice(0, 10)}`;
    end = new Date(start.getTime() + 86_400_000);
  } else {
    start = new Date(Date.UTC(y, m, 1));
    id = `m:${start.toISOString().slice(0, 7)}`;
    end = new Date(Date.UTC(y, m + 1, 1));
  }
  return { id, start, end, keys: [`${id}:spent`, `${id}:held`, `${id}:fired`] };
}

/** `periodOf`, remembered until the moment leaves the period: every budget of a kind shares it. */
export class PeriodClock {
  private day: PeriodSpan | undefined;
  private month: PeriodSpan | undefined;

  at(period: Period, now: number): PeriodSpan {
    const known = period === 'day' ? this.day : this.month;
    if (known && now >= known.start.getTime() && now < known.end.getTime()) return known;
    const span = periodOf(period, now);
    if (period === 'day') this.day = span;
    else this.month = span;
    return span;
  }
}
