/**
 * What one request cost, computed once and shared: the audit line, the ledger, budgets,
 * guardrails and `/v1/usage` all read the same {@link RequestCost} from the request's
 * context, so they cannot disagree. The price book is built once per config generation
 * from the top-level `pricing:` section.
 */
import path from 'node:path';
import { createKey, type GatewayConfig, type Outcome, type PluginEnv, type RequestContext } from '../../core/index.js';
import { packageRoot } from '../../core/package-root.js';
import { buildPriceBook, costNanos, nanosToUsd, type PriceBook, type PriceMatch, type PricingSection } from './price-book.js';

/** The built-in price file. */
export const DEFAULT_PRICE_FILE = path.join(packageRoot, 'configs', 'pricing.yaml');

/** One request's cost. */
export interface RequestCost {
  /** Integer nano-USD (0 when unpriced). */
  readonly nanos: number;
  /** USD, as written on the audit line. */
  readonly usd: number;
  /** False when the request used tokens of a model the book has no price for. */
  readonly priced: boolean;
  readonly match: PriceMatch | undefined;
}

const COST = createKey<RequestCost>('cost.request');

/** A book per config object: every plugin of one generation gets the same one. */
const books = new WeakMap<object, PriceBook>();

/** The price book of this config generation (built on first use; throws on a bad price file). */
export function priceBookFor(env: Pick<PluginEnv, 'config' | 'configDir'>): PriceBook {
  let book = books.get(env.config);
  if (!book) {
    book = buildPriceBook(env.config.pricing as PricingSection | undefined, env.configDir, DEFAULT_PRICE_FILE);
    books.set(env.config, book);
  }
  return book;
}

/** providerKeys' answers per config generation: every request of a route asks the same. */
const keysByConfig = new WeakMap<object, Map<string, readonly string[]>>();
const NO_KEYS: readonly string[] = [];

/** Names to look a route's provider up under: its instance name, then its type. */
export function providerKeys(config: Readonly<GatewayConfig>, provider: string | undefined): readonly string[] {
  if (!provider) return NO_KEYS;
  let known = keysByConfig.get(config);
  if (!known) keysByConfig.set(config, (known = new Map()));
  let keys = known.get(provider);
  if (!keys) {
    const type = config.providers?.[provider]?.type;
    keys = type && type !== provider ? [provider, type] : [provider];
    // Provider names come from the config (or a client's unknown route: bounded anyway).
    if (known.size < 1000) known.set(provider, keys);
  }
  return keys;
}

/**
 * The request's cost, computed on first call and kept on the context.
 * @example
 * const { usd, priced } = requestCost(ctx, outcome, book, env.config);
 */
export function requestCost(ctx: RequestContext, outcome: Outcome, book: PriceBook, config: Readonly<GatewayConfig>): RequestCost {
  const known = ctx.get(COST);
  if (known) return known;
  const u = outcome.usage;
  const used = u.inputTokens + u.outputTokens + u.cacheCreationTokens + u.cacheReadTokens > 0;
  // The target that answered (a fallback's provider prices its own model), else the chosen provider.
  const model = outcome.model ?? ctx.model;
  // The base id only for the spelling inspect read it from.
  const match = book.lookup(providerKeys(config, outcome.target ?? outcome.provider), model, model === ctx.model ? ctx.baseModel : undefined);
  const nanos = match ? costNanos(match.price, u) : 0;
  // Only a request that used tokens can be "unpriced": a rejected one cost nothing either way.
  const cost: RequestCost = { nanos, usd: nanosToUsd(nanos), priced: match !== undefined || !used, match };
  ctx.set(COST, cost);
  return cost;
}

const COMPLETED = createKey<Date>('cost.completed-at');

/** When the request completed, fixed on first call: the audit line and the ledger row share one day. */
export function completionTime(ctx: RequestContext): Date {
  let at = ctx.get(COMPLETED);
  if (!at) ctx.set(COMPLETED, (at = new Date()));
  return at;
}
