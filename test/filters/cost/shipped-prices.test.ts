/**
 * The shipped price file against the vendors' published ids and prices (see the `source:`
 * of each block): a Bedrock profile or ARN of a priced base id is priced by that base id
 * (`Provider.baseModel`), and a model the file leaves unpriced on purpose takes the
 * `unpriced` path (no match) instead of a neighbour's price through a broad pattern.
 */
import t from 'tap';
import { DEFAULT_PRICE_FILE } from '../../../filters/cost/accounting.js';
import { buildPriceBook } from '../../../filters/cost/price-book.js';
import { baseModelId } from '../../../providers/bedrock/model-id.js';

const book = buildPriceBook(undefined, '.', DEFAULT_PRICE_FILE);
const price = (provider: string, model: string) => book.lookup([provider], model, provider === 'bedrock' ? baseModelId(model) : undefined)?.price;

t.test("Anthropic: Sonnet 5.5 at the vendor's prices (cache hits 5% of input, $0.10/MTok); Sonnet 5 at 10%", async (t) => {
  t.same(price('anthropic', 'claude-sonnet-5-5'), { input: 2, output: 10, cache_read: 0.1, cache_write: 2.5, cache_write_1h: 4 });
  t.same(price('anthropic', 'claude-sonnet-5'), { input: 2, output: 10, cache_read: 0.2, cache_write: 2.5, cache_write_1h: 4 });
});

t.test("Anthropic: Claude Haiku 5.5 at the vendor page's prices, five times over 100K prompt tokens", async (t) => {
  const haiku = { input: 0.1, output: 0.5, cache_read: 0.01, cache_write: 0.125, cache_write_1h: 0.2, above: { prompt_tokens: 100000, input: 0.5, output: 2.5, cache_read: 0.05, cache_write: 0.625, cache_write_1h: 1 } };
  t.same(price('anthropic', 'claude-haiku-5-5'), haiku);
  t.same(price('anthropic', 'claude-haiku-5-5-20261007'), haiku);
  t.same(price('anthropic', 'claude-haiku-4-5-20251001'), { input: 1, output: 5, cache_read: 0.1, cache_write: 1.25, cache_write_1h: 2 }, 'Haiku 4.5 still priced');
});

const OPUS_46 = 'anthropic.claude-opus-4-6-v1';
const OPUS_46_PRICE = { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25, cache_write_1h: 10 };

t.test('Bedrock: Claude Opus 4.6 is priced by its base id in every spelling, 10% more outside a global profile', async (t) => {
  for (const model of [`global.${OPUS_46}`, `arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.${OPUS_46}`]) t.same(price('bedrock', model), OPUS_46_PRICE, model);
  const regional = [OPUS_46, `us.${OPUS_46}`, `eu.${OPUS_46}`, `jp.${OPUS_46}`, `apac.${OPUS_46}`, `arn:aws:bedrock:us-east-1::foundation-model/${OPUS_46}`];
  const times = (p: Record<string, number>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v * 1.1]));
  for (const model of regional) t.same(price('bedrock', model), times(OPUS_46_PRICE), model);
  t.same(book.lookup(['bedrock'], `global.${OPUS_46}`, baseModelId(`global.${OPUS_46}`))?.key, 'anthropic.claude-opus-4-6*', 'matched by its own key, not Opus 4.x in general');
});

t.test('Bedrock: the newest global profiles of Claude 4.5/4.6 are priced', async (t) => {
  t.same(price('bedrock', 'global.anthropic.claude-sonnet-4-6'), { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75, cache_write_1h: 6 });
  t.same(price('bedrock', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0'), { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75, cache_write_1h: 6 });
  t.same(price('bedrock', 'global.anthropic.claude-opus-4-5-20251101-v1:0'), OPUS_46_PRICE);
  t.same(price('bedrock', 'global.anthropic.claude-haiku-4-5-20251001-v1:0'), { input: 1, output: 5, cache_read: 0.1, cache_write: 1.25, cache_write_1h: 2 });
});

t.test('Bedrock: Sonnet 5.5 cache hits at $0.10/MTok as on the Claude API', async (t) => {
  t.match(price('bedrock', 'global.anthropic.claude-sonnet-5-5'), { input: 2, output: 10, cache_read: 0.1 });
});

t.test('Bedrock: a custom model of a priced base, and an unknown model, stay unpriced', async (t) => {
  t.equal(price('bedrock', `arn:aws:bedrock:us-east-1:123456789012:custom-model/${OPUS_46}/abc123`), undefined);
  t.equal(price('bedrock', 'global.anthropic.claude-nope-1-v1:0'), undefined);
});

t.test('OpenAI: GPT-5 nano at its model page price', async (t) => {
  t.same(price('openai', 'gpt-5-nano'), { input: 0.05, output: 0.4, cache_read: 0.005, cache_write: 0.05, cache_write_1h: 0.1 });
  t.same(price('openai', 'gpt-5-nano-2025-08-07'), { input: 0.05, output: 0.4, cache_read: 0.005, cache_write: 0.05, cache_write_1h: 0.1 });
  t.equal(price('openai', 'gpt-5'), undefined, 'no official cached-input figure found: unpriced, not guessed');
});

t.test('OpenAI: GPT-5 mini at its model page price; the newer minis are not its neighbours', async (t) => {
  t.same(price('openai', 'gpt-5-mini'), { input: 0.25, output: 2, cache_read: 0.025, cache_write: 0.25, cache_write_1h: 0.5 });
  t.same(price('openai', 'gpt-5-mini-2025-08-07'), { input: 0.25, output: 2, cache_read: 0.025, cache_write: 0.25, cache_write_1h: 0.5 });
  for (const model of ['gpt-5.4-mini', 'gpt-5.4', 'o3', 'o4-mini']) t.equal(price('openai', model), undefined, `${model} unpriced`);
});
