/**
 * The price book: USD per million tokens by provider and model, from `configs/pricing.yaml`
 * (or the file `pricing.file` names) with the config's `pricing.providers` entries laid
 * over it. Model keys are exact ids or `*` patterns; an exact id wins, then the pattern
 * with the most literal characters, so `claude-opus-4-1*` beats `claude-opus-4*`.
 * One book per config generation; lookups are memoised per (provider, model).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../../core/deps/yaml.js';
// The glob compiler by its own file: the build's snapshot step and the ledger CLI load this
// module, and the package entry would bring the whole runtime with it.
import { compileGlob, type GlobMatcher } from '../../core/glob.js';
import type { TokenUsage } from '../../core/index.js';

/**
 * Where the build leaves a JSON copy of the shipped price file, named by the sha256 of its
 * text: parsing 5 KB of YAML takes ~20 ms of a cold start, `JSON.parse` well under one. A
 * price file whose text has no copy (edited, or a user's own) is parsed as YAML.
 */
export const SNAPSHOT_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'precompiled');

/** The JSON copy a price file with this text would have. */
export function snapshotPath(text: string): string {
  return path.join(SNAPSHOT_DIR, `${createHash('sha256').update(text).digest('hex')}.json`);
}

/** One set of rates, USD per million tokens. */
export interface PriceRates {
  readonly input: number;
  readonly output: number;
  readonly cache_read: number;
  /** A 5-minute cache write (and any write an answer does not say is a 1-hour one). */
  readonly cache_write: number;
  /** A 1-hour cache write (Anthropic bills it at 2 × input). */
  readonly cache_write_1h: number;
}

/** The rates a request is billed at, all of it, once its prompt is longer than `prompt_tokens`. */
export interface PriceTier extends PriceRates {
  readonly prompt_tokens: number;
}

/** One model's prices, USD per million tokens. */
export interface Price extends PriceRates {
  /** A long-prompt tier (Gemini 2.5 Pro over 200K, Claude Haiku 5.5 over 100K). */
  readonly above?: PriceTier;
}

/** A model's entry as written: cache prices optional, a tier optional. */
export type PriceEntry = Partial<PriceRates> & { above?: Partial<PriceRates> & { prompt_tokens?: number } };

/**
 * A premium on every rate of some models unless the request names a `global.` profile:
 * AWS bills a geographic (`us.`, `eu.`, …) or in-Region call of Claude Sonnet 4.5 and later
 * 10% over a global one, and the book's Bedrock prices are the global ones.
 */
export interface RegionalPremium {
  /** Every rate (and the tier's) times this, e.g. 1.1. */
  multiplier: number;
  /** Model keys of the same block (written exactly as there) the premium applies to. */
  models: string[];
}

/** A provider's block in a price file or in `pricing.providers`. */
export interface ProviderPrices {
  /** When the prices were read from the vendor (documentation only). */
  taken?: string;
  source?: string;
  models: Record<string, PriceEntry>;
  regional_premium?: RegionalPremium;
}

/** The top-level `pricing:` section of config.yaml. */
export interface PricingSection {
  /** A price file replacing the built-in `configs/pricing.yaml`; relative to the config file. */
  file?: string;
  /** Entries laid over the file's, model key by model key (a self-hosted model's internal rate, a negotiated discount). */
  providers?: Record<string, ProviderPrices>;
}

/** A price found for a request, with the key that matched (for `/v1/usage` and debugging). */
export interface PriceMatch {
  readonly price: Price;
  readonly provider: string;
  readonly key: string;
  /** The block's `regional_premium.multiplier`, when `price` has it applied. */
  readonly regional?: number;
}

/** A priced key: its match for a `global.` profile, and the premium one for any other call, if it has one. */
interface Entry {
  readonly global: PriceMatch;
  readonly regional: PriceMatch | undefined;
}

interface Pattern {
  /** `*` matches line breaks too: a model id with a newline must not slip past `"*"` into "unpriced". */
  matches: GlobMatcher;
  literal: number;
  entry: Entry;
}

/**
 * A model id that names a global cross-region inference profile, as written or as the
 * resource id of an inference-profile ARN: the one spelling billed without the regional premium.
 */
const GLOBAL_PROFILE = /^(?:arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]*:[0-9]*:inference-profile\/)?global\./;

const NANOS_PER_USD_PER_MTOK = 1000; // tokens × (USD / 1e6 tokens) × 1e9 nano-USD / USD

/**
 * The prompt's length as vendors count it for a tier: every input token, cached or not
 * (Anthropic: input + cache reads + cache writes; Gemini: `promptTokenCount`).
 */
export function promptTokens(u: TokenUsage): number {
  return u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens;
}

/**
 * Cost of `usage` at `price`, in integer nano-USD. Integers so that the ledger, budgets
 * and a rebuild from the audit log add up to exactly the same totals in any order. A
 * prompt longer than the tier's `prompt_tokens` bills the whole request at the tier's rates.
 * @example
 * costNanos({ input: 3, output: 15, cache_read: 0.3, cache_write: 3.75, cache_write_1h: 6 }, usage) // 1 input token at $3/MTok → 3000
 */
export function costNanos(price: Price, u: TokenUsage): number {
  const tier = price.above;
  const p: PriceRates = tier !== undefined && promptTokens(u) > tier.prompt_tokens ? tier : price;
  const hour = Math.min(u.cacheCreation1hTokens ?? 0, u.cacheCreationTokens);
  return Math.round(
    (u.inputTokens * p.input + u.outputTokens * p.output + u.cacheReadTokens * p.cache_read + (u.cacheCreationTokens - hour) * p.cache_write + hour * p.cache_write_1h) *
      NANOS_PER_USD_PER_MTOK,
  );
}

/** Nano-USD as the USD number written on audit lines and in `/v1/usage`. */
export function nanosToUsd(nanos: number): number {
  return nanos / 1e9;
}

/** USD (an audit line's `cost_usd`, a budget's limit) as integer nano-USD. */
export function usdToNanos(usd: number): number {
  return Math.round(usd * 1e9);
}

/** The rates of a model's price, as `definitions.price` in schemas/config.schema.json has them. */
const PRICE_FIELDS: readonly string[] = ['input', 'output', 'cache_read', 'cache_write', 'cache_write_1h'];
const ENTRY_FIELDS: ReadonlySet<string> = new Set([...PRICE_FIELDS, 'above']);
const TIER_FIELDS: ReadonlySet<string> = new Set([...PRICE_FIELDS, 'prompt_tokens']);
/** And of a provider's block, as `pricing.providers` has them. */
const BLOCK_FIELDS: ReadonlySet<string> = new Set(['taken', 'source', 'models', 'regional_premium']);

function plainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What is wrong with the rates of an entry or a tier, or undefined. */
function ratesIssue(p: Record<string, unknown>, allowed: ReadonlySet<string>, at: string): string | undefined {
  for (const field of Object.keys(p)) if (!allowed.has(field)) return `${at}"${field}" is not a price (${[...allowed].join(', ')})`;
  for (const field of PRICE_FIELDS) {
    const value = p[field];
    if (value === undefined && (field === 'input' || field === 'output')) return `${at}needs numeric "input" and "output" prices`;
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) return `${at}${field}: must be a number ≥ 0 (USD per million tokens), not ${JSON.stringify(value)}`;
  }
  return undefined;
}

/**
 * What is wrong with one model's price, or undefined: the config schema's rules (`input`
 * and `output` required, every price a number ≥ 0, no other field; a tier the same, with
 * an integer `prompt_tokens` ≥ 1) and finite as well. One `cache_read: "0.3 USD"` made
 * that model's cost NaN, which the ledger's NOT NULL column refused, and with it every
 * other user's rows in the batch.
 */
export function priceIssue(p: unknown): string | undefined {
  if (!plainObject(p)) return 'must be a mapping of prices';
  const issue = ratesIssue(p, ENTRY_FIELDS, '');
  if (issue || p.above === undefined) return issue;
  const tier = p.above;
  if (!plainObject(tier)) return 'above: must be a mapping: prompt_tokens and the prices billed beyond it';
  const limit = tier.prompt_tokens;
  if (!(typeof limit === 'number' && Number.isInteger(limit) && limit >= 1)) return `above.prompt_tokens: must be an integer ≥ 1 (the prompt length beyond which the tier bills), not ${JSON.stringify(limit)}`;
  return ratesIssue(tier, TIER_FIELDS, 'above: ');
}

/** What is wrong with a block's `regional_premium`, or undefined: the config schema's rules, and every listed key priced in the block. */
export function regionalIssue(premium: unknown, models: Record<string, unknown>): string | undefined {
  if (!plainObject(premium)) return 'must be a mapping: multiplier and models';
  for (const field of Object.keys(premium)) if (field !== 'multiplier' && field !== 'models') return `"${field}" is not one of multiplier, models`;
  const m = premium.multiplier;
  if (!(typeof m === 'number' && Number.isFinite(m) && m > 0)) return `multiplier: must be a number > 0 (1.1 for 10% over the global price), not ${JSON.stringify(m)}`;
  if (!Array.isArray(premium.models)) return 'models: must be a list of model keys of this provider';
  for (const key of premium.models) {
    // A typo would silently bill the global price: every entry must be a key priced above it.
    if (typeof key !== 'string' || !Object.hasOwn(models, key)) return `models: ${JSON.stringify(key)} is not a model key of this provider`;
  }
  return undefined;
}

/** What is wrong with a price file's `providers:` mapping, or undefined: the rules inline entries get. */
function priceFileIssue(providers: Record<string, unknown>): string | undefined {
  for (const [provider, block] of Object.entries(providers)) {
    const at = `providers.${provider}`;
    if (!plainObject(block)) return `${at}: must be a mapping with "models:"`;
    for (const field of Object.keys(block)) if (!BLOCK_FIELDS.has(field)) return `${at}: "${field}" is not one of taken, source, models`;
    for (const field of ['taken', 'source']) if (block[field] !== undefined && typeof block[field] !== 'string') return `${at}.${field}: must be a string`;
    if (!plainObject(block.models)) return `${at}.models: must be a mapping of model keys to prices`;
    for (const [key, price] of Object.entries(block.models)) {
      const issue = priceIssue(price);
      if (issue) return `${at}.models."${key}": ${issue}`;
    }
    if (block.regional_premium !== undefined) {
      const issue = regionalIssue(block.regional_premium, block.models);
      if (issue) return `${at}.regional_premium: ${issue}`;
    }
  }
  return undefined;
}

/** Rates with the defaults filled in: cache traffic a vendor does not bill apart is input; a 1-hour write is 2 × input, Anthropic's rule. */
function rates(p: Partial<PriceRates>): PriceRates {
  const { input, output, cache_read = input, cache_write = input, cache_write_1h = 2 * input } = p as PriceRates;
  return { input, output, cache_read, cache_write, cache_write_1h };
}

function complete(key: string, p: PriceEntry, where: string): Price {
  const issue = priceIssue(p);
  if (issue) throw new Error(`${where}: model "${key}": ${issue}`);
  const base = rates(p);
  // A flat price keeps no `above` key at all: costNanos' one check is all it pays.
  return p.above ? { ...base, above: { prompt_tokens: p.above.prompt_tokens as number, ...rates(p.above) } } : base;
}

/** Every rate of `p`, and of its tier, times `m`. */
function scaled(p: Price, m: number): Price {
  const times = (r: PriceRates): PriceRates => ({ input: r.input * m, output: r.output * m, cache_read: r.cache_read * m, cache_write: r.cache_write * m, cache_write_1h: r.cache_write_1h * m });
  return p.above ? { ...times(p), above: { prompt_tokens: p.above.prompt_tokens, ...times(p.above) } } : times(p);
}

const MEMO_LIMIT = 10_000;

export class PriceBook {
  private readonly exact = new Map<string, Map<string, Entry>>();
  private readonly patterns = new Map<string, Pattern[]>();
  /** Lookups so far: provider key(s) → model → entry; bounded in all by {@link MEMO_LIMIT}. */
  private readonly memo = new Map<string, Map<string, Entry | null>>();
  private memoSize = 0;
  /** Provider blocks as loaded, for `taken` dates in `/v1/usage`. */
  readonly providers: ReadonlyMap<string, ProviderPrices>;

  constructor(blocks: Record<string, ProviderPrices>) {
    this.providers = new Map(Object.entries(blocks));
    for (const [provider, block] of Object.entries(blocks)) {
      const exact = new Map<string, Entry>();
      const patterns: Pattern[] = [];
      const models = block.models ?? {};
      const premium = block.regional_premium;
      // Checked here too: config.yaml's `pricing.providers` entries meet the file's keys only now.
      const issue = premium === undefined ? undefined : regionalIssue(premium, models);
      if (issue) throw new Error(`pricing.providers.${provider}.regional_premium: ${issue}`);
      const regionalKeys = new Set(premium?.models);
      for (const [key, p] of Object.entries(models)) {
        const price = complete(key, p, `pricing.providers.${provider}`);
        const entry: Entry = {
          global: { price, provider, key },
          regional: premium && regionalKeys.has(key) ? { price: scaled(price, premium.multiplier), provider, key, regional: premium.multiplier } : undefined,
        };
        if (key.includes('*')) patterns.push({ matches: compileGlob(key), literal: key.replace(/\*/g, '').length, entry });
        else exact.set(key, entry);
      }
      // Most literal characters first; a stable sort keeps file order among equals.
      patterns.sort((a, b) => b.literal - a.literal);
      this.exact.set(provider, exact);
      this.patterns.set(provider, patterns);
    }
  }

  /**
   * The price of `model` on `providers` (tried in order: the route's provider instance
   * name, then its type), or undefined when it has none. `base`: the base model id `model`
   * spells another way (`ctx.baseModel`), priced by its key where `model` has none of its own.
   * A key under the block's `regional_premium` is priced with it unless `model` names a
   * `global.` profile.
   */
  lookup(providers: readonly string[], model: string | undefined, base?: string): PriceMatch | undefined {
    const entry = this.lookupOne(providers, model) ?? (base === undefined ? undefined : this.lookupOne(providers, base));
    if (!entry) return undefined;
    return entry.regional && !(model !== undefined && GLOBAL_PROFILE.test(model)) ? entry.regional : entry.global;
  }

  private lookupOne(providers: readonly string[], model: string | undefined): Entry | undefined {
    if (!model) return undefined;
    // One provider (the usual case) is its own key: no string built per request.
    const providersKey = providers.length === 1 ? providers[0] : providers.join('\u0000');
    let byModel = this.memo.get(providersKey);
    const hit = byModel?.get(model);
    if (hit !== undefined) return hit ?? undefined;
    let found: Entry | null = null;
    for (const provider of providers) {
      const exact = this.exact.get(provider)?.get(model);
      if (exact) {
        found = exact;
        break;
      }
      const pattern = this.patterns.get(provider)?.find((p) => p.matches(model));
      if (pattern) {
        found = pattern.entry;
        break;
      }
    }
    if (this.memoSize >= MEMO_LIMIT) {
      // Model ids come from clients: keep it bounded.
      this.memo.clear();
      this.memoSize = 0;
      byModel = undefined;
    }
    if (!byModel) this.memo.set(providersKey, (byModel = new Map()));
    byModel.set(model, found);
    this.memoSize++;
    return found ?? undefined;
  }
}

/** Read a price file (`providers:` → provider → `models:`). */
export function readPriceFile(file: string): Record<string, ProviderPrices> {
  let doc: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    const snapshot = snapshotPath(text);
    doc = existsSync(snapshot) ? JSON.parse(readFileSync(snapshot, 'utf8')) : parse(text);
  } catch (err) {
    throw new Error(`pricing file ${file}: ${(err as Error).message}`);
  }
  const providers = (doc as { providers?: unknown } | null)?.providers;
  if (!plainObject(providers)) throw new Error(`pricing file ${file}: expected a "providers:" mapping`);
  // Checked here, naming the file: start-up, a reload and `validate` all build the book.
  const issue = priceFileIssue(providers);
  if (issue) throw new Error(`pricing file ${file}: ${issue}`);
  return providers as Record<string, ProviderPrices>;
}

/** The book for a `pricing:` section: the file (default `defaultFile`), then the inline entries over it. */
export function buildPriceBook(section: PricingSection | undefined, configDir: string, defaultFile: string): PriceBook {
  const file = section?.file ? path.resolve(configDir, section.file) : defaultFile;
  const blocks = readPriceFile(file);
  for (const [provider, block] of Object.entries(section?.providers ?? {})) {
    const base = blocks[provider];
    blocks[provider] = { ...base, ...block, models: { ...(base?.models ?? {}), ...block.models } };
  }
  return new PriceBook(blocks);
}
