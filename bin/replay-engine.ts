/**
 * What-if replay: recorded audit lines (identity, model, timing, tokens) run through a
 * proposed config's identity, rate-limit, budget and validation rules, in the order its
 * filter chain names them, to tell who would have been refused, when and why. The real
 * modules decide — the static workspace directory, the validator's limit table, the GCRA
 * limiter and the budget script on a memory store whose clock steps through the recorded
 * times, the price book — so a replay cannot drift from what the gateway would do.
 *
 * What a line cannot tell is approximated: a request's arrival is its completion time
 * minus its latency; the tokens reserved at admission are the tokens it really used
 * (its `max_tokens` is not recorded), so the validator's `max_tokens` check reads the
 * output tokens.
 */
import { compileSchema } from '../core/config/ajv.js';
import type { LoadedConfig } from '../core/config/load.js';
import { MemoryStore } from '../core/index.js';
import { staticDirectory, type WorkspaceDirectory } from '../filters/auth/directory.js';
import budgetPlugin from '../filters/budget/index.js';
import { Budgets, PeriodClock, type Budget, type BudgetConfig } from '../filters/budget/config.js';
import { budgetScript, Mode as BudgetMode, reserveScript } from '../filters/budget/script.js';
import { priceBookFor, providerKeys } from '../filters/cost/accounting.js';
import { costNanos, nanosToUsd } from '../filters/cost/price-book.js';
import { configSchema as rateLimitSchema, Limits, type RateLimitConfig } from '../filters/rate-limit/config.js';
import { Limiter, type Reservation } from '../filters/rate-limit/limiter.js';
import validatorPlugin, { type ValidatorConfig } from '../filters/validator/index.js';
import { LimitTable } from '../filters/validator/limits.js';
import type { BaseModelOf } from './base-models.js';

/** The audit-line fields a replay reads. */
export interface RecordedRequest {
  timestamp: string;
  user: string | null;
  workspace: string | null;
  project?: string | null;
  provider: string | null;
  model: string | null;
  tokens_in: number;
  tokens_out: number;
  latency_ms: number;
  status: number;
  request_id?: string;
  cache_creation_tokens?: number;
  cache_read_tokens?: number;
  /** Of the cache writes, the 1-hour ones (absent: none, or a line from before it existed). */
  cache_creation_1h_tokens?: number;
  bytes_in?: number;
  error_kind?: string | null;
}

/** One request the proposed config would refuse. */
export interface Refusal {
  /** When it arrived (ISO). */
  at: string;
  request_id: string | null;
  user: string | null;
  workspace: string | null;
  project: string | null;
  model: string | null;
  /** The status it got when it was recorded. */
  recorded_status: number;
  /** The status the proposed config would answer. */
  status: number;
  /** The filter that would refuse it. */
  by: string;
  reason: string;
}

/** The result of a replay. */
export interface ReplayReport {
  from: string | null;
  to: string | null;
  replayed: number;
  refused: number;
  /** Recorded as refused (4xx from a policy) but admitted by the proposed config. */
  newly_admitted: number;
  by_filter: Record<string, number>;
  by_user: Record<string, number>;
  /** Budget thresholds the traffic would cross (alerts), in order. */
  budget_alerts: Array<{ at: string; scope: string; name: string; period: string; threshold_percent: number }>;
  /** Rules that cannot be replayed from an audit log (a Coder directory, say). */
  notes: string[];
  refusals: Refusal[];
}

function configOf<C>(loaded: LoadedConfig, name: string, schema: object | undefined): C | undefined {
  const entry = loaded.config.filters.find((f) => f.name === name && f.enabled !== false && !f.plugin);
  if (!entry) return undefined;
  const config = structuredClone(entry.config ?? {});
  compileSchema(schema ?? {})(config); // fills in the defaults, as at load
  return config as C;
}

interface Pending {
  at: number;
  done: () => void;
}

/** Replay `records` (any order) through `loaded`. */
/** `baseModelOf`: the base id a recorded model spells another way, priced and allowed by as the gateway did (bin/base-models.ts). */
export function replay(loaded: LoadedConfig, records: readonly RecordedRequest[], env: NodeJS.ProcessEnv = process.env, baseModelOf?: BaseModelOf): ReplayReport {
  let now = 0;
  const clock = () => now;
  const store = new MemoryStore({ clock });
  const config = loaded.config;
  const order = config.filters.filter((f) => f.enabled !== false && !f.plugin).map((f) => f.name);
  const notes: string[] = [];

  const auth = configOf<{ source: string; workspace_header: string }>(loaded, 'auth', { type: 'object', properties: { source: { default: 'static' } } });
  let directory: WorkspaceDirectory | undefined;
  if (auth?.source === 'static') directory = staticDirectory(config.workspaces);
  else if (auth) notes.push('auth reads a Coder directory: identities are taken as recorded');

  const rl = configOf<RateLimitConfig>(loaded, 'rate-limit', rateLimitSchema);
  const limits = rl && new Limits(config, env);
  const limiter = new Limiter(store, { clock });

  const bc = configOf<BudgetConfig>(loaded, 'budget', budgetPlugin.configSchema);
  const budgets = bc && new Budgets(bc);
  const book = priceBookFor({ config, configDir: loaded.dir });

  const vc = configOf<ValidatorConfig>(loaded, 'validator', validatorPlugin.configSchema);
  let table: LimitTable | undefined;
  if (vc) {
    const { providers, users, schemas: _s, chars_per_token: _c, ...global } = vc;
    table = new LimitTable(global, providers, users);
  }

  const report: ReplayReport = { from: null, to: null, replayed: 0, refused: 0, newly_admitted: 0, by_filter: {}, by_user: {}, budget_alerts: [], notes, refusals: [] };
  const sorted = records
    .map((r) => ({ r, at: Date.parse(r.timestamp) - (r.latency_ms ?? 0) }))
    .filter((x) => Number.isFinite(x.at) && x.r.model && x.r.error_kind !== 'not_found')
    .sort((a, b) => a.at - b.at);
  if (sorted.length > 0) {
    report.from = new Date(sorted[0].at).toISOString();
    report.to = sorted.at(-1)!.r.timestamp;
  }

  // Completions (reconcile, budget commit) wait in time order among arrivals.
  const pending: Pending[] = [];
  const settleUntil = (t: number) => {
    pending.sort((a, b) => a.at - b.at);
    while (pending.length > 0 && pending[0].at <= t) {
      const p = pending.shift()!;
      now = p.at;
      p.done();
    }
  };

  const periods = new PeriodClock();
  const commitBudget = (b: Budget, actual: number, release: number, at: number) => {
    const span = periods.at(b.period, at);
    const s = store.run(budgetScript, b.group, span.keys, [BudgetMode.Commit, actual, release, span.end.getTime() - at + 86_400_000, 15 * 60_000, ...b.thresholdNanos]);
    for (let i = s.firedBefore; i < s.firedNow; i++) report.budget_alerts.push({ at: new Date(at).toISOString(), scope: b.scope, name: b.name, period: b.period, threshold_percent: b.thresholds[i] });
  };

  for (const { r, at } of sorted) {
    settleUntil(at);
    now = at;
    report.replayed++;
    let user = r.user;
    let workspace = r.workspace;
    let project = r.project ?? null;
    // As the live limiter counts them (filters/rate-limit): cache reads only when asked to.
    const tokens = r.tokens_in + r.tokens_out + (r.cache_creation_tokens ?? 0) + (rl?.count_cache_reads ? (r.cache_read_tokens ?? 0) : 0);
    const usage = { inputTokens: r.tokens_in, outputTokens: r.tokens_out, cacheCreationTokens: r.cache_creation_tokens ?? 0, cacheReadTokens: r.cache_read_tokens ?? 0, cacheCreation1hTokens: r.cache_creation_1h_tokens ?? 0 };
    const base = r.model ? baseModelOf?.(r.provider ?? undefined, r.model) : undefined;
    const match = book.lookup(providerKeys(config, r.provider ?? undefined), r.model ?? undefined, base);
    const cost = match ? costNanos(match.price, usage) : 0;
    const end = Date.parse(r.timestamp);
    let reservation: Reservation | undefined;
    let held: Budget[] = [];
    let refusal: Omit<Refusal, 'at' | 'request_id' | 'user' | 'workspace' | 'project' | 'model' | 'recorded_status'> | undefined;

    for (const name of order) {
      if (name === 'auth' && directory) {
        if (!workspace) {
          refusal = { status: 401, by: 'auth', reason: 'no workspace identity recorded' };
        } else {
          const found = directory.peek(workspace);
          if (found?.status !== 'ok') refusal = { status: 403, by: 'auth', reason: `workspace "${workspace}" is not known` };
          else ({ user, project } = { user: found.user, project: found.project ?? null });
        }
      } else if (name === 'rate-limit' && limits && rl) {
        const d = limiter.reserve([limits.user(user ?? rl.anonymous_user), limits.global], Math.min(rl.max_reserved_tokens, tokens));
        if (d instanceof Promise) throw new Error('the memory store answers synchronously');
        if (d.allowed) reservation = d.reservation;
        else refusal = { status: 429, by: 'rate-limit', reason: `${d.scope} over its ${d.reason} per minute limit (retry in ${Math.ceil(d.retryMs / 1000)}s)` };
      } else if (name === 'budget' && budgets && bc) {
        for (const g of budgets.list(user ?? bc.anonymous_user, project ?? undefined).reserves) {
          const s = store.run(reserveScript, g.group, g.at(periods, at).keys, [cost, 15 * 60_000, ...g.limits]);
          if (s.refused === 0) {
            held.push(...g.budgets);
            continue;
          }
          const b = g.budgets[s.refused - 1];
          refusal = { status: 403, by: 'budget', reason: `${b.period === 'day' ? 'daily' : 'monthly'} budget of ${b.scope === 'global' ? 'the gateway' : `${b.scope} "${b.name}"`} ($${b.limitUsd}) spent: $${nanosToUsd(s.spent).toFixed(4)} + $${nanosToUsd(cost).toFixed(4)}` };
          break;
        }
      } else if (name === 'validator' && table) {
        const l = table.for(r.provider ?? undefined, user ?? undefined);
        const denied = r.model ? l.allowlists.find((a) => !a.match(r.model!) && !(base !== undefined && a.match(base))) : undefined;
        if (r.bytes_in !== undefined && l.maxBodyBytes !== undefined && r.bytes_in > l.maxBodyBytes) refusal = { status: 413, by: 'validator', reason: `body of ${r.bytes_in} bytes over ${l.maxBodyBytes}` };
        else if (denied) refusal = { status: 403, by: 'validator', reason: `model "${r.model}" is not allowed for ${denied.scope}` };
        else if (l.maxTokens !== undefined && !l.clamp && r.tokens_out > l.maxTokens) refusal = { status: 400, by: 'validator', reason: `${r.tokens_out} output tokens over max_tokens ${l.maxTokens}` };
        else if (l.maxPromptTokens !== undefined && r.tokens_in > l.maxPromptTokens) refusal = { status: 400, by: 'validator', reason: `${r.tokens_in} prompt tokens over ${l.maxPromptTokens}` };
      }
      if (refusal) break;
    }

    // Completion: a refused request used nothing; an admitted one what it recorded.
    const used = refusal ? 0 : tokens;
    const spent = refusal ? 0 : cost;
    const res = reservation;
    const holds = held;
    pending.push({
      at: refusal ? at : Math.max(at, end),
      done: () => {
        if (res) limiter.reconcile(res, used);
        for (const b of holds) commitBudget(b, spent, cost, now);
        if (spent === 0 || !budgets || !bc) return;
        // Alert-only budgets count the spend too; matched by name, as default_* budgets are made per call.
        const id = (b: Budget) => `${b.scope}|${b.name}|${b.period}`;
        const reserved = new Set(holds.map(id));
        for (const b of budgets.for(user ?? bc.anonymous_user, project ?? undefined)) if (!reserved.has(id(b))) commitBudget(b, spent, 0, now);
      },
    });
    held = [];

    const policyRefused = r.status === 401 || r.status === 403 || r.status === 429 || r.status === 413;
    if (!refusal) {
      if (policyRefused) report.newly_admitted++;
      continue;
    }
    report.refused++;
    report.by_filter[refusal.by] = (report.by_filter[refusal.by] ?? 0) + 1;
    const who = user ?? '(none)';
    report.by_user[who] = (report.by_user[who] ?? 0) + 1;
    report.refusals.push({ at: new Date(at).toISOString(), request_id: r.request_id ?? null, user, workspace, project, model: r.model, recorded_status: r.status, ...refusal });
  }
  settleUntil(Number.POSITIVE_INFINITY);
  return report;
}
