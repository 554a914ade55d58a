/**
 * `cost`: prices every request and attributes it — user, workspace, project from the
 * identity, agent session from the client's headers or Anthropic `metadata.user_id` —
 * counts cost and unpriced requests in metrics, and feeds the usage ledger off the
 * request path. Passive: it never refuses a request. Place it right after the identity
 * filter so the session it resolves (with its configured headers) is the one every later
 * filter and the audit line see. Prices come from the top-level `pricing:` section.
 */
import { isoTime, ModelSeries, type Filter, type FilterPlugin, type PluginEnv, type RequestContext } from '../../core/index.js';
import { isAudited } from '../audit/record.js';
import { CACHE_HIT } from '../cache/slot.js';
import { completionTime, priceBookFor, requestCost } from './accounting.js';
import { rowFromAudit } from './ledger/entry.js';
import { ledgerPool, ledgerSchema, type LedgerConfig } from './ledger/index.js';
import type { LedgerWriter } from './ledger/writer.js';
import { nanosToUsd } from './price-book.js';
import { DEFAULT_SESSION_HEADERS, sessionOf } from './session.js';

export interface CostConfig {
  /** Headers naming the agent session, tried in order before `metadata.user_id`. */
  session_headers: string[];
  ledger: LedgerConfig;
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    session_headers: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9-]+$' }, default: [...DEFAULT_SESSION_HEADERS] },
    ledger: ledgerSchema,
  },
};

function monthStart(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

async function createCost(config: CostConfig, env: PluginEnv): Promise<Filter> {
  const book = priceBookFor(env); // a bad price file fails the (re)load here, with its message
  const headers = config.session_headers.map((h) => h.toLowerCase());
  const costTotal = env.metrics.fastCounter({ name: 'gateway_cost_usd_total', help: 'Priced cost of requests in USD, by provider and model', labelNames: ['provider', 'model'] });
  const unpriced = env.metrics.fastCounter({ name: 'gateway_unpriced_requests_total', help: 'Requests that used tokens of a model with no price, by provider and model', labelNames: ['provider', 'model'] });
  // The model is the client's string: capped as gateway_tokens_total is. Kept across reloads
  // with the counters themselves, or each reload would let another MAX_MODEL_SERIES in.
  const series = env.shared.get('cost.model-series', () => new ModelSeries((provider, model) => ({ cost: costTotal.labels(provider, model), unpriced: unpriced.labels(provider, model) })));
  let writer: LedgerWriter | undefined;
  let release: (() => Promise<void>) | undefined;
  if (config.ledger.type !== 'none') ({ writer, release } = await ledgerPool(env.shared).acquire(config.ledger, env));

  return {
    onRequest(ctx) {
      sessionOf(ctx, headers);
    },
    onComplete(ctx, outcome) {
      const session = sessionOf(ctx, headers);
      const cost = requestCost(ctx, outcome, book, env.config);
      const provider = outcome.provider ?? 'none';
      const model = outcome.model ?? ctx.model ?? 'unknown';
      const counters = series.get(provider, model);
      if (cost.nanos > 0) counters.cost.inc(cost.usd);
      if (!cost.priced) {
        counters.unpriced.inc();
        env.log.debug('request used a model with no price', { request_id: ctx.id, provider, model, session });
      }
      if (!writer || !isAudited(ctx, outcome)) return;
      const id = ctx.identity;
      const u = outcome.usage;
      writer.add(rowFromAudit({
        timestamp: isoTime(completionTime(ctx).getTime()),
        user: id?.user, workspace: id?.workspace, project: id?.project,
        provider: outcome.provider, model: outcome.model,
        status: outcome.status,
        tokens_in: u.inputTokens, tokens_out: u.outputTokens, cache_creation_tokens: u.cacheCreationTokens, cache_read_tokens: u.cacheReadTokens,
        cost_usd: cost.usd, price_missing: !cost.priced,
        attempts: outcome.attempts ?? 0, cache_hit: ctx.get(CACHE_HIT) === true, // as the audit line has them
      }));
    },
    async usage(ctx: RequestContext) {
      const id = ctx.identity;
      if (!writer || !id) return {};
      const today = new Date().toISOString().slice(0, 10);
      const from = monthStart(today);
      const [userMonth, projectMonth] = await Promise.all([
        writer.totals({ from, to: today, user: id.user }),
        id.project === undefined ? undefined : writer.totals({ from, to: today, project: id.project }),
      ]);
      const view = (c: typeof userMonth) => ({ requests: c.requests, cost_usd: nanosToUsd(c.cost_nanos), unpriced_requests: c.unpriced, tokens_in: c.tokens_in, tokens_out: c.tokens_out });
      return { cost: { period: 'month', since: `${from}T00:00:00.000Z`, user: view(userMonth), project: projectMonth ? view(projectMonth) : null } };
    },
    close: release,
  };
}

const cost: FilterPlugin<CostConfig> = {
  name: 'cost',
  apiVersion: 1,
  configSchema,
  create: createCost,
};
export default cost;
