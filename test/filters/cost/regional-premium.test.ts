/**
 * Bedrock bills a geographic (`us.`, `eu.`, …) or in-Region call of Claude Sonnet 4.5 and
 * later 10% over a `global.` profile, and the book's prices are the global ones: a block's
 * `regional_premium` prices the listed keys times its multiplier unless the model id names
 * a `global.` profile. Before it, a `us.` call was billed at the global price.
 */
import path from 'node:path';
import t from 'tap';
import { DEFAULT_PRICE_FILE } from '../../../filters/cost/accounting.js';
import { buildPriceBook, costNanos, PriceBook, readPriceFile } from '../../../filters/cost/price-book.js';
import { baseModelId } from '../../../providers/bedrock/model-id.js';
import { startGateway, writeConfig } from '../../helpers/gateway.js';
import { IDENTITY_PLUGIN } from '../../helpers/rate-limit.js';
import { rebuildBedrockLedger, recordedLine, replayReport, writeAuditLog } from '../../helpers/recorded-audit.js';
import { auditLines, waitFor } from '../fixtures.js';
import { ScriptedUpstream } from '../../proof/support/upstream.js';

const usage = (input: number, output: number, cacheRead = 0, cacheWrite = 0) => ({ inputTokens: input, outputTokens: output, cacheReadTokens: cacheRead, cacheCreationTokens: cacheWrite, cacheCreation1hTokens: 0 });
const MTOK = usage(1_000_000, 1_000_000, 1_000_000, 1_000_000);

const book = buildPriceBook(undefined, '.', DEFAULT_PRICE_FILE);
const cost = (model: string) => {
  const match = book.lookup(['bedrock'], model, baseModelId(model));
  return match ? costNanos(match.price, MTOK) : undefined;
};

t.test('a us. profile of a Claude 4.5+ model costs exactly 1.1 × its global. profile', async (t) => {
  for (const base of ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-opus-4-6-v1', 'anthropic.claude-haiku-4-5-20251001-v1:0', 'anthropic.claude-sonnet-5-5', 'anthropic.claude-fable-5-1']) {
    const global = cost(`global.${base}`)!;
    t.ok(global > 0, `${base} priced`);
    // Integer nano-USD: 1.1 × is exact for these rates, so the check is equality.
    t.equal(cost(`us.${base}`), Math.round(global * 1.1), `us.${base}`);
    for (const regional of [`eu.${base}`, `jp.${base}`, `au.${base}`, base, `arn:aws:bedrock:us-east-1::foundation-model/${base}`, `arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.${base}`]) {
      t.equal(cost(regional), cost(`us.${base}`), `${regional}: regional`);
    }
    t.equal(cost(`arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.${base}`), global, 'a global profile ARN is global');
  }
  // Sonnet 4.5 at $3/$15, cache reads $0.30, 5-minute writes $3.75: 22.05 global, 24.255 regional.
  t.equal(cost('global.anthropic.claude-sonnet-4-5-20250929-v1:0'), 22.05e9);
  t.equal(cost('us.anthropic.claude-sonnet-4-5-20250929-v1:0'), 24.255e9);
  t.match(book.lookup(['bedrock'], 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-sonnet-4-5-20250929-v1:0'), { key: 'anthropic.claude-sonnet-4-5*', regional: 1.1 });
  t.notOk(book.lookup(['bedrock'], 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-sonnet-4-5-20250929-v1:0')?.regional);
});

t.test('an older model costs the same in every scope', async (t) => {
  for (const base of ['anthropic.claude-sonnet-4-20250514-v1:0', 'anthropic.claude-opus-4-1-20250805-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0']) {
    const global = cost(`global.${base}`);
    t.ok(global !== undefined && global > 0, `${base} priced`);
    t.equal(cost(`us.${base}`), global, `us.${base}`);
    t.equal(cost(base), global, base);
  }
  t.equal(book.lookup(['bedrock'], 'anthropic.claude-sonnet-4-20250514-v1:0')?.key, 'anthropic.claude-sonnet-4*', 'Sonnet 4 keeps its own key');
});

t.test('the Anthropic API itself has no regional premium', async (t) => {
  const p = book.lookup(['anthropic'], 'claude-sonnet-4-5-20250929');
  t.equal(p?.price.input, 3);
  t.notOk(p?.regional);
});

t.test('the premium scales a long-prompt tier too', async (t) => {
  const tiered = new PriceBook({
    bedrock: {
      models: { 'x.model*': { input: 1, output: 2, above: { prompt_tokens: 10, input: 4, output: 8 } } },
      regional_premium: { multiplier: 1.5, models: ['x.model*'] },
    },
  });
  const p = tiered.lookup(['bedrock'], 'x.model-1')!.price;
  t.same(p, { input: 1.5, output: 3, cache_read: 1.5, cache_write: 1.5, cache_write_1h: 3, above: { prompt_tokens: 10, input: 6, output: 12, cache_read: 6, cache_write: 6, cache_write_1h: 12 } });
  t.same(tiered.lookup(['bedrock'], 'global.x.model-1', 'x.model-1')!.price.above, { prompt_tokens: 10, input: 4, output: 8, cache_read: 4, cache_write: 4, cache_write_1h: 8 });
});

t.test('a premium naming a key the block does not price is refused, in a file and inline', async (t) => {
  const dir = t.testdir({
    'typo.yaml': 'providers:\n  bedrock:\n    regional_premium: { multiplier: 1.1, models: ["anthropic.claude-sonet-4-5*"] }\n    models:\n      "anthropic.claude-sonnet-4-5*": { input: 3, output: 15 }\n',
    'zero.yaml': 'providers:\n  bedrock:\n    regional_premium: { multiplier: 0, models: [] }\n    models: {}\n',
  });
  t.throws(() => readPriceFile(path.join(dir, 'typo.yaml')), /providers\.bedrock\.regional_premium: models: "anthropic\.claude-sonet-4-5\*" is not a model key of this provider/);
  t.throws(() => readPriceFile(path.join(dir, 'zero.yaml')), /regional_premium: multiplier: must be a number > 0/);
  t.throws(
    () => buildPriceBook({ providers: { bedrock: { models: {}, regional_premium: { multiplier: 1.1, models: ['anthropic.claude-nope*'] } } } }, '.', DEFAULT_PRICE_FILE),
    /pricing\.providers\.bedrock\.regional_premium: models: "anthropic\.claude-nope\*" is not a model key/,
  );
});

t.test("a config's own price for a listed key keeps the file's premium", async (t) => {
  const own = buildPriceBook({ providers: { bedrock: { models: { 'anthropic.claude-sonnet-4-5*': { input: 2, output: 10 } } } } }, '.', DEFAULT_PRICE_FILE);
  t.equal(own.lookup(['bedrock'], 'global.anthropic.claude-sonnet-4-5-v1', 'anthropic.claude-sonnet-4-5-v1')?.price.input, 2);
  t.equal(own.lookup(['bedrock'], 'us.anthropic.claude-sonnet-4-5-v1', 'anthropic.claude-sonnet-4-5-v1')?.price.input, 2.2);
});

t.test('ledger rebuild reprices us. and global. lines as the gateway does', async (t) => {
  const base = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
  const older = 'anthropic.claude-3-haiku-20240307-v1:0';
  const { code, out, rows } = await rebuildBedrockLedger([`us.${base}`, `global.${base}`, `us.${older}`, `global.${older}`]);
  t.equal(code, 0, out);
  const nanos = (model: string) => rows.find((r) => r.model === model)?.cost_nanos;
  t.equal(nanos(`global.${base}`), 3e9);
  t.equal(nanos(`us.${base}`), 3.3e9);
  t.equal(nanos(`us.${older}`), 0.25e9);
  t.equal(nanos(`global.${older}`), 0.25e9);
});

t.test('replay prices a us. call with the premium: over a budget the global. call fits', async (t) => {
  const base = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
  const { dir, file } = writeConfig(`server: { port: 0 }
providers:
  bedrock: { region: us-east-1, access_key_id: AKIAREGIONAL00000003, secret_access_key: regionalSecret/00000000002 }
filters:
  - name: auth
    config: { source: static }
  - name: budget
    config:
      users:
        alice: { daily_usd: 3.2, action: block }
        bob: { daily_usd: 3.2, action: block }
workspaces:
  ws-a: { user: alice }
  ws-b: { user: bob }
`);
  // 1M input tokens of Sonnet 4.5: $3.00 through global., $3.30 through us.
  const log = writeAuditLog(dir, [recordedLine({ user: 'x', workspace: 'ws-a', model: `global.${base}` }), recordedLine({ user: 'x', workspace: 'ws-b', model: `us.${base}` })]);
  const { code, out, report } = await replayReport(file, log);
  t.equal(code, 0, out);
  t.match(report!.refusals, [{ model: `us.${base}`, by: 'budget', reason: /\$3\.3000/ }]);
  t.equal(report!.refusals.length, 1, 'the global. call fits');
});

t.test('the live gateway bills a us. call with the premium and a global. call without', async (t) => {
  const MODEL = 'meta.llama-regional-v1:0';
  const upstream = await ScriptedUpstream.start();
  t.teardown(() => upstream.close());
  const gw = await startGateway(t, JSON.stringify({
    providers: { bedrock: { region: 'us-east-1', base_url: upstream.url, access_key_id: 'AKIAREGIONAL00000002', secret_access_key: 'regionalSecret/00000000001' } },
    filters: [
      { name: 'identity', plugin: IDENTITY_PLUGIN },
      { name: 'cost' },
      { name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } },
    ],
    pricing: { providers: { bedrock: { models: { [MODEL]: { input: 1, output: 2 } }, regional_premium: { multiplier: 1.1, models: [MODEL] } } } },
  }));
  const costOf = async (modelId: string) => {
    const res = await fetch(`${gw.url}/v1/bedrock/model/${encodeURIComponent(modelId)}/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'regional' },
      body: JSON.stringify({ prompt: 'hi', max_gen_len: 16 }),
    });
    await res.text();
    t.equal(res.status, 200, modelId);
    const id = res.headers.get('x-request-id');
    const file = path.join(gw.dir, 'audit.log');
    await waitFor(() => auditLines(file).some((l) => l.request_id === id));
    return Number(auditLines(file).find((l) => l.request_id === id)!.cost_usd);
  };
  const global = await costOf(`global.${MODEL}`);
  const us = await costOf(`us.${MODEL}`);
  t.ok(global > 0, `priced (${global})`);
  t.ok(Math.abs(us - global * 1.1) < 1e-12, `us. ${us} = 1.1 × global. ${global}`);
});
