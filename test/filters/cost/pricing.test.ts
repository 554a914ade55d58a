import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { DEFAULT_PRICE_FILE } from '../../../filters/cost/accounting.js';
import { buildPriceBook, costNanos, nanosToUsd, PriceBook } from '../../../filters/cost/price-book.js';
import { baseModelId } from '../../../providers/bedrock/model-id.js';
import { startGateway } from '../../helpers/gateway.js';
import { DEFAULT_USAGE, AnthropicMock } from '../../mocks/anthropic-mock.js';
import { GATEWAY_KEY } from '../../helpers/anthropic.js';
import { repoRoot } from '../../helpers/process.js';
import { auditLines, messages, post, waitFor } from '../fixtures.js';
import { tempDir } from '../../helpers/temp-dir.js';

const usage = (i: number, o: number, cw: number, cr: number) => ({ inputTokens: i, outputTokens: o, cacheCreationTokens: cw, cacheReadTokens: cr });

t.test('cost of every price dimension, cache tokens included, in exact nano-USD', async (t) => {
  const p = { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75, cache_write_1h: 6 };
  t.equal(costNanos(p, usage(1_000_000, 0, 0, 0)), 3e9, 'a million input tokens at $3/MTok is $3');
  t.equal(costNanos(p, usage(0, 1_000_000, 0, 0)), 15e9, 'output');
  t.equal(costNanos(p, usage(0, 0, 1_000_000, 0)), 3.75e9, 'cache writes');
  t.equal(costNanos(p, usage(0, 0, 0, 1_000_000)), 0.3e9, 'cache reads');
  t.equal(costNanos(p, usage(1234, 56, 300, 2000)), 1234 * 3000 + 56 * 15000 + 300 * 3750 + 2000 * 300, 'all four at once');
  t.equal(nanosToUsd(costNanos(p, usage(1, 0, 0, 0))), 0.000003, 'one token');
});

t.test('the built-in book: exact ids, families by wildcard, the most specific pattern wins', async (t) => {
  const book = buildPriceBook(undefined, '/', DEFAULT_PRICE_FILE);
  t.match(book.lookup(['anthropic'], 'claude-sonnet-4-5-20250929')?.price, { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 });
  t.match(book.lookup(['anthropic'], 'claude-3-sonnet-20240229')?.price, { input: 3, output: 15 }, 'the seed models are priced');
  t.match(book.lookup(['anthropic'], 'claude-3-haiku-20240307')?.price, { input: 0.25, output: 1.25, cache_read: 0.03, cache_write: 0.3 });
  t.match(book.lookup(['anthropic'], 'claude-opus-4-1-20250805')?.price, { input: 15, output: 75 });
  t.match(book.lookup(['anthropic'], 'claude-opus-4-5-20251101')?.price, { input: 5, output: 25 });
  t.match(book.lookup(['anthropic'], 'claude-opus-5-5')?.price, { input: 4, output: 20, cache_read: 0.2 }, 'opus-5-5* beats opus-5*');
  t.match(book.lookup(['anthropic'], 'claude-opus-5')?.price, { input: 5, output: 25 });
  t.match(book.lookup(['bedrock'], 'anthropic.claude-sonnet-4-20250514-v1:0')?.price, { input: 3, output: 15 }, 'Bedrock base ids, the version suffix in the *');
  t.match(book.lookup(['bedrock'], 'anthropic.claude-3-haiku-20240307-v1:0')?.price, { input: 0.25 });
  t.match(book.lookup(['openai'], 'gpt-4o-mini-2024-07-18')?.price, { input: 0.15, cache_read: 0.075 }, 'gpt-4o-mini* beats gpt-4o*');
  t.match(book.lookup(['openai'], 'gpt-4.1-mini')?.price, { input: 0.4, output: 1.6 });
  t.match(book.lookup(['gemini'], 'gemini-2.5-flash-lite')?.price, { input: 0.1 }, 'flash-lite beats flash');
  t.equal(book.lookup(['anthropic'], 'claude-unknown-9'), undefined, 'unknown models have no price');
  t.equal(book.lookup(['my-claude', 'anthropic'], 'claude-haiku-4-5')?.provider, 'anthropic', 'instance name first, then the type');
  for (const [name, block] of book.providers) t.match(block.taken, /^\d{4}-\d{2}-\d{2}$/, `${name}: the date prices were taken`);
});

t.test('Bedrock keys are base ids: profiles and foundation-model ARNs priced by theirs, custom and provisioned models unpriced', async (t) => {
  const book = buildPriceBook(undefined, '/', DEFAULT_PRICE_FILE);
  const base = 'anthropic.claude-3-haiku-20240307-v1:0';
  const sonnet = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
  // As the gateway asks: the model as written, then the base id inspect read from it.
  const price = (model: string) => book.lookup(['bedrock'], model, baseModelId(model))?.price;
  t.match(price(`us.${sonnet}`), { input: 3 * 1.1, output: 15 * 1.1 }, 'a cross-region profile (with the regional premium)');
  t.match(price(`global.${sonnet}`), { input: 3, output: 15 }, 'the global profile');
  t.match(price(`arn:aws:bedrock:us-east-1::foundation-model/${base}`), { input: 0.25, output: 1.25 }, 'a foundation-model ARN');
  t.match(price(`arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.${base}`), { input: 0.25 }, 'an inference-profile ARN');
  t.equal(price(`arn:aws:bedrock:us-east-1:123456789012:custom-model/${base}/abc123`), undefined, 'a fine-tune is not billed at list price');
  t.equal(price(`arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123`), undefined, 'nor provisioned throughput');
  t.equal(price(`arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/${sonnet}-x`), undefined, 'nor any other ARN naming the model inside');
});

t.test("the build's JSON copy of the shipped price file is the YAML, parsed", async (t) => {
  // The built module: its precompiled/ directory is the one the build wrote.
  const built = (await import(path.join(repoRoot, 'dist/filters/cost/price-book.js'))) as typeof import('../../../filters/cost/price-book.js');
  const text = readFileSync(DEFAULT_PRICE_FILE, 'utf8');
  const snapshot = built.snapshotPath(text);
  t.ok(existsSync(snapshot), 'written by npm run build');
  t.same(JSON.parse(readFileSync(snapshot, 'utf8')), parse(text));
  t.same([...built.buildPriceBook(undefined, '/', DEFAULT_PRICE_FILE).providers], [...buildPriceBook(undefined, '/', DEFAULT_PRICE_FILE).providers], 'the same book either way');

  // An edited file has no copy: it is read as YAML.
  const dir = tempDir('gw-pricing-');
  const edited = path.join(dir, 'pricing.yaml');
  writeFileSync(edited, text.replace(/"claude-sonnet-4\*": \{ input: 3,/, '"claude-sonnet-4*": { input: 2.5,'));
  t.notOk(existsSync(built.snapshotPath(readFileSync(edited, 'utf8'))));
  t.match(built.buildPriceBook({ file: edited }, '/', DEFAULT_PRICE_FILE).lookup(['anthropic'], 'claude-sonnet-4-6')?.price, { input: 2.5 });
});

t.test('config overrides: inline entries over the file, internal rates, cache prices default to input', async (t) => {
  const book = buildPriceBook({ providers: { anthropic: { models: { 'claude-sonnet-4-5*': { input: 2, output: 10 } } }, ollama: { taken: '2026-11-01', models: { '*': { input: 0.02, output: 0.02 } } } } }, '/', DEFAULT_PRICE_FILE);
  t.match(book.lookup(['anthropic'], 'claude-sonnet-4-5')?.price, { input: 2, output: 10, cache_read: 2, cache_write: 2 });
  t.match(book.lookup(['anthropic'], 'claude-sonnet-4')?.price, { input: 3 }, 'the rest of the file stays');
  t.match(book.lookup(['ollama'], 'llama3.1:70b')?.price, { input: 0.02, output: 0.02 }, 'a self-hosted model at an internal rate');
  t.throws(() => new PriceBook({ x: { models: { m: { input: 1 } } } }), /needs numeric "input" and "output"/);
});

t.test('a pattern\'s * matches any characters, line breaks included; the rest stays literal and anchored', async (t) => {
  const book = buildPriceBook(undefined, '/', DEFAULT_PRICE_FILE);
  t.equal(book.lookup(['echo'], 'echo-1\n7')?.key, '*', 'echo\'s "*" prices a model id with a newline');
  t.equal(book.lookup(['echo'], '\r\n\u2028')?.key, '*', 'and one of line breaks only');
  t.match(book.lookup(['anthropic'], 'claude-sonnet-4-5\nx')?.price, { input: 3, output: 15 }, 'a prefix pattern, the newline in its *');
  t.equal(book.lookup(['anthropic'], 'x\nclaude-sonnet-4-5'), undefined, 'a pattern still matches from the first character');
  const own = new PriceBook({ p: { models: { 'a.b*': { input: 1, output: 1 } } } });
  t.equal(own.lookup(['p'], 'aXb\n'), undefined, 'a dot in a key is a dot');
  t.equal(own.lookup(['p'], 'a.b\n')?.key, 'a.b*');
});

t.test('every audit line has cost_usd; metrics count cost and unpriced requests', async (t) => {
  const mock = await AnthropicMock.start({ apiKey: GATEWAY_KEY });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `providers:
  anthropic:
    api_key: "${GATEWAY_KEY}"
    base_url: ${mock.url}
  echo:
    models: [echo-1]
filters:
  - name: cost
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 20 }
pricing:
  providers:
    echo:
      models:
        "echo-priced": { input: 1000, output: 2000 }
`);
  const file = path.join(gw.dir, 'audit.log');
  const claude = (model: string) => post(`${gw.url}/v1/claude/v1/messages`, {}, messages({ model }));
  t.equal((await claude('claude-sonnet-4-5')).status, 200);
  t.equal((await claude('claude-sonnet-4-5')).status, 200);
  t.equal((await claude('claude-next-unreleased')).status, 200);
  await post(`${gw.url}/v1/echo/v1/messages`, {}, messages({ model: 'echo-priced' }));
  t.ok(await waitFor(() => auditLines(file).length === 4));
  const [a, , unpriced, echo] = auditLines(file);
  const u = DEFAULT_USAGE;
  const expected = (u.input_tokens * 3 + u.output_tokens * 15 + u.cache_creation_input_tokens * 3.75 + u.cache_read_input_tokens * 0.3) / 1e6;
  t.equal(a.cost_usd, Math.round(expected * 1e9) / 1e9, 'Anthropic usage with cache tokens priced at claude-sonnet-4-5 rates');
  t.notOk('price_missing' in a, 'priced lines carry no flag');
  t.equal(unpriced.cost_usd, 0);
  t.equal(unpriced.price_missing, true, 'an unpriced model is flagged, not silently free');
  t.equal(echo.cost_usd, ((echo.tokens_in as number) * 1000 + (echo.tokens_out as number) * 2000) / 1e6, 'an override price');
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  const line = (name: string, model: string) => metrics.split('\n').find((l) => l.startsWith(name) && l.includes(`model="${model}"`));
  t.match(line('gateway_cost_usd_total', 'claude-sonnet-4-5'), new RegExp(` ${String(2 * (a.cost_usd as number)).slice(0, 8)}`), 'cost counter by provider and model');
  t.match(line('gateway_unpriced_requests_total', 'claude-next-unreleased'), / 1$/, 'unpriced counter');
  t.notOk(line('gateway_unpriced_requests_total', 'claude-sonnet-4-5'));
});
