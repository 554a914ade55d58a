/**
 * `admin`: the admin usage API and the usage dashboard, guarded by an admin token
 * (`token`, e.g. `${AI_GATEWAY_ADMIN_TOKEN}`; empty disables both). Served as plugin
 * endpoints — no route, no filter chain, never audited as AI traffic — on the main port,
 * or only on the operational listener when `server.admin.endpoints` lists `plugins`:
 * - `GET /admin/usage?from=&to=&user=&workspace=&project=&model=&provider=&group_by=&format=csv`
 * - `GET /admin/summary` (the dashboard's data, same filters)
 * - `/dashboard`: the page (Bearer token, or the login form's HttpOnly session cookie)
 * Usage comes from the `cost` filter's ledger (SQLite or PostgreSQL); the filter itself
 * only counts rate-limit and budget rejections for the dashboard.
 */
import { compileSchema } from '../../core/config/ajv.js';
import { defineError, GatewayError, STORE_READY_MS, storeFor, type EndpointRequest, type EndpointResponse, type Filter, type FilterPlugin, type PluginEnv } from '../../core/index.js';
import budgetPlugin from '../budget/index.js';
import type { BudgetConfig } from '../budget/config.js';
import costPlugin, { type CostConfig } from '../cost/index.js';
import { ledgerPool } from '../cost/ledger/index.js';
import type { DayRange } from '../cost/ledger/types.js';
import type { LedgerWriter } from '../cost/ledger/writer.js';
import { AdminAccess } from './access.js';
import { dashboardEndpoint } from './dashboard.js';
import { rejections } from './rejections.js';
import { EndedSessions } from './sessions.js';
import { groupReader } from './ledger-read.js';
import { budgetPeriod, budgetSpend, budgetViews, summarize, summaryPeriodError } from './summary.js';
import { parseUsageQuery, toCsv, usageGroupQuery, usageRows, usageTotals } from './usage.js';

defineError('GW_ERR_LEDGER_NONE', { status: 503, category: 'unavailable', kind: 'unavailable', message: 'No usage ledger is configured' });

/** Options under `filters[].config` for `admin`. */
export interface AdminConfig {
  /** The admin token; empty (the default) disables the admin API and the dashboard. */
  token: string;
  /** Serve `/dashboard` (the API stays either way). */
  dashboard: boolean;
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // Empty (disabled) or long enough not to be guessed: judged in create(), trimmed.
    token: { type: 'string', default: '' },
    dashboard: { type: 'boolean', default: true },
  },
};

const MIN_TOKEN_LENGTH = 16;
function json(status: number, body: unknown, headers: Record<string, string> = {}): EndpointResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** A catalogued error in the gateway's JSON error shape, with the catalogue's status. */
function failure(code: string, message: string): EndpointResponse {
  const err = new GatewayError(code, message);
  return json(err.status, { error: { code: err.code, message: err.message } });
}

/** The 401/403 answer in the gateway's JSON error shape. */
export function denied(access: 'missing' | 'wrong'): EndpointResponse {
  return access === 'missing'
    ? json(401, { error: { code: 'GW_ERR_AUTH_MISSING', message: 'The admin API needs the admin token: Authorization: Bearer <token>' } }, { 'www-authenticate': 'Bearer realm="ai-gateway admin"' })
    : json(403, { error: { code: 'GW_ERR_AUTH_FORBIDDEN', message: 'Wrong admin token' } });
}

function sectionOf<C>(env: PluginEnv, name: string, schema: object | undefined): C | undefined {
  const entry = env.config.filters.find((f) => f.name === name && f.enabled !== false && !f.plugin);
  if (!entry) return undefined;
  const config = structuredClone(entry.config ?? {});
  compileSchema(schema ?? {})(config);
  return config as C;
}

async function createAdmin(config: AdminConfig, env: PluginEnv): Promise<Filter> {
  const counts = rejections(env.shared);
  const filter: Filter = {
    onComplete(ctx, outcome) {
      if (outcome.status === 429 && outcome.repliedBy === 'rate-limit') counts.record('rate_limit', ctx.identity?.user ?? '(anonymous)');
      else if (outcome.repliedBy === 'budget' && outcome.status === 403) counts.record('budget', ctx.identity?.user ?? '(anonymous)');
    },
  };
  // A token read from a secret file ends in a newline; the presented one is trimmed too.
  const token = config.token.trim();
  if (!token) {
    env.log.info('admin API and dashboard disabled: no admin token set');
    return filter;
  }
  if (token.length < MIN_TOKEN_LENGTH) throw new Error(`admin token must be at least ${MIN_TOKEN_LENGTH} characters, not counting whitespace around it (or empty to disable the admin API), e.g. \`openssl rand -hex 24\``);
  // Logouts are kept by this process and, on the Redis store, for every worker and replica.
  const shared = env.config.store?.type === 'redis' ? storeFor(env) : undefined;
  if (shared && !(await shared.ready(STORE_READY_MS))) env.log.warn('admin session store not ready; logged-out sessions follow its fail mode until it is', { store: shared.type, fail_mode: shared.failMode });
  const access = new AdminAccess(token, env.shared.get('admin.ended-sessions', () => new EndedSessions()), shared);
  const cost = sectionOf<CostConfig>(env, 'cost', costPlugin.configSchema);
  const budget = sectionOf<BudgetConfig>(env, 'budget', budgetPlugin.configSchema);
  let writer: LedgerWriter | undefined;
  let release: (() => Promise<void>) | undefined;
  if (cost && cost.ledger.type !== 'none') ({ writer, release } = await ledgerPool(env.shared).acquire(cost.ledger, env));

  /** Aggregate reads of these days, the batch still waiting included. */
  const readerOf = async (ranges: DayRange[]) => {
    await writer!.flush();
    return groupReader(writer!.backend, ranges);
  };

  async function api(req: EndpointRequest): Promise<EndpointResponse> {
    const granted = await access.check(req);
    if (granted !== 'ok') return denied(granted);
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: { code: 'GW_ERR_METHOD_NOT_ALLOWED', message: 'GET only' } }, { allow: 'GET, HEAD' });
    if (req.path !== '/admin/usage' && req.path !== '/admin/summary') return json(404, { error: { code: 'GW_ERR_ROUTE_NOT_FOUND', message: `No admin endpoint ${req.path}` } });
    if (!writer) return failure('GW_ERR_LEDGER_NONE', 'No usage ledger: set the "cost" filter\'s ledger.type to sqlite or postgres');
    const q = parseUsageQuery(req.query);
    if (typeof q === 'string') return json(400, { error: { code: 'GW_ERR_REQUEST_INVALID', message: q } });
    const tooLong = req.path === '/admin/summary' ? summaryPeriodError(q) : undefined;
    if (tooLong) return json(400, { error: { code: 'GW_ERR_REQUEST_INVALID', message: tooLong } });
    const period: DayRange = { from: q.from, to: q.to };
    if (req.path === '/admin/summary') {
      const now = Date.now();
      const read = await readerOf(budget ? [period, budgetPeriod(now)] : [period]);
      const budgets = budget ? budgetViews(budget, await budgetSpend(read, now), now) : [];
      return json(200, await summarize(read, q, budgets, { hours: counts.series(), by_user: counts.byUser() }));
    }
    const groups = await (await readerOf([period]))(usageGroupQuery(q));
    const rows = usageRows(groups, q.groupBy);
    if (req.query.get('format') === 'csv') {
      return { status: 200, headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="usage-${q.from}-${q.to}.csv"` }, body: toCsv(rows, q.groupBy) };
    }
    return json(200, { from: q.from, to: q.to, filters: q.filters, group_by: q.groupBy, rows, totals: usageTotals(groups) });
  }

  filter.endpoints = [
    {
      path: '/admin/',
      // A ledger driver's error text can name its database and host: the cause goes to the log.
      handle: (req) =>
        api(req).catch((err: unknown) => {
          env.log.error('admin API failed unexpectedly', { path: req.path, err });
          return json(500, { error: { code: 'GW_ERR_INTERNAL', message: 'Internal error; the gateway log has the cause' } });
        }),
    },
    ...(config.dashboard ? dashboardEndpoint(access, env.log) : []),
  ];
  filter.close = release;
  return filter;
}

const admin: FilterPlugin<AdminConfig> = {
  name: 'admin',
  apiVersion: 1,
  configSchema,
  create: createAdmin,
};
export default admin;
