/**
 * Bedrock bills Anthropic models at Anthropic's list prices, so the built-in book must
 * price on Bedrock every Anthropic model it prices directly. Claude Code on Bedrock (2.1.197)
 * probes and then uses `us.anthropic.claude-opus-4-6-v1`, which the Bedrock list lacked:
 * its audit lines said `price_missing` and cost 0.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { DEFAULT_PRICE_FILE } from '../../../filters/cost/accounting.js';
import { buildPriceBook } from '../../../filters/cost/price-book.js';
import { baseModelId } from '../../../providers/bedrock/model-id.js';

type Models = Record<string, Record<string, unknown>>;
const file = parse(readFileSync(DEFAULT_PRICE_FILE, 'utf8')) as { providers: Record<string, { models: Models }> };
// An alias Anthropic serves that no Bedrock id has: Bedrock's Opus 4.0 ids are dated (claude-opus-4-2025…).
// Haiku 5.5 bills by prompt length and Bedrock's own rates for it are not in the book's sources.
const ANTHROPIC_ONLY = new Set(['claude-opus-4-0*', 'claude-haiku-5-5*']);
const BASE_FIELDS = ['input', 'output', 'cache_read', 'cache_write'] as const;

t.test('every Anthropic price has its Bedrock twin, at the same base price', async (t) => {
  // Long-prompt tiers (`above`) are compared nowhere: Bedrock's are not in the sources, so a
  // Bedrock request is priced at the base rates (configs/pricing.yaml says so).
  const book = buildPriceBook(undefined, '/', DEFAULT_PRICE_FILE);
  for (const [pattern, price] of Object.entries(file.providers.anthropic.models)) {
    if (ANTHROPIC_ONLY.has(pattern)) continue;
    // The global profile: the book's Bedrock prices are those, other scopes add the regional premium.
    const twin = book.lookup(['bedrock'], `global.anthropic.${pattern.replace('*', '')}`, `anthropic.${pattern.replace('*', '')}`)?.price;
    const pick = (p: Record<string, unknown> | undefined) => p && Object.fromEntries(BASE_FIELDS.map((f) => [f, p[f]]));
    t.same(pick(twin as Record<string, unknown> | undefined), pick(price), `anthropic.${pattern}`);
  }
});

t.test('the ids Claude Code on Bedrock sends are priced, us. profiles with the regional premium', async (t) => {
  const book = buildPriceBook(undefined, '/', DEFAULT_PRICE_FILE);
  const price = (model: string) => book.lookup(['bedrock'], model, baseModelId(model))?.price;
  t.match(price('us.anthropic.claude-opus-4-6-v1'), { input: 5 * 1.1, output: 25 * 1.1, cache_read: 0.5 * 1.1, cache_write: 6.25 * 1.1 });
  t.match(price('us.anthropic.claude-sonnet-4-5-20250929-v1:0'), { input: 3 * 1.1, output: 15 * 1.1 });
  t.match(price('us.anthropic.claude-haiku-4-5-20251001-v1:0'), { input: 1 * 1.1, output: 5 * 1.1 });
  t.match(price('global.anthropic.claude-opus-4-6-v1'), { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25 });
});
