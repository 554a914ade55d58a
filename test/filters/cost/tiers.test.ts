/**
 * Two ways vendors bill that a flat price cannot express: a long prompt billed, all of it,
 * at a tier's rates (Gemini 2.5 Pro over 200K prompt tokens, Claude Haiku 5.5 over 100K,
 * Sonnet 4/4.5 over 200K), and Anthropic's 1-hour cache writes at 2 × input where a
 * 5-minute write is 1.25 ×. Usage is read with the providers' own readers from the wire
 * shapes, and priced with the shipped book.
 */
import path from 'node:path';
import t from 'tap';
import { DEFAULT_PRICE_FILE } from '../../../filters/cost/accounting.js';
import { buildPriceBook, costNanos, PriceBook, priceIssue, type Price } from '../../../filters/cost/price-book.js';
import { geminiUsage } from '../../../providers/gemini/usage.js';
import { anthropicMeter } from '../../../providers/anthropic/usage.js';
import { bedrockJsonMeter } from '../../../providers/bedrock/usage.js';
import { startGateway } from '../../helpers/gateway.js';
import { GATEWAY_KEY } from '../../helpers/anthropic.js';
import { AnthropicMock } from '../../mocks/anthropic-mock.js';
import { auditLines, messages, post, waitFor } from '../fixtures.js';

const book = buildPriceBook(undefined, '/', DEFAULT_PRICE_FILE);
const priceOf = (provider: string, model: string): Price => {
  const match = book.lookup([provider], model);
  if (!match) throw new Error(`${provider}/${model} has no price`);
  return match.price;
};
/** USD per MTok × tokens, in nano-USD, as costNanos rounds it. */
const nanos = (...terms: Array<[tokens: number, usdPerMTok: number]>) => Math.round(terms.reduce((sum, [n, p]) => sum + n * p, 0) * 1000);

t.test('a 300K-token Gemini 2.5 Pro answer is billed at the long-prompt rates, all of it', async (t) => {
  const pro = priceOf('gemini', 'gemini-2.5-pro');
  const long = geminiUsage({ promptTokenCount: 300_000, cachedContentTokenCount: 40_000, candidatesTokenCount: 1_500, thoughtsTokenCount: 500 });
  t.equal(costNanos(pro, long), nanos([260_000, 2.5], [40_000, 0.25], [2_000, 15]), 'input $2.50, cache hits $0.25, output $15');
  const short = geminiUsage({ promptTokenCount: 200_000, candidatesTokenCount: 2_000 });
  t.equal(costNanos(pro, short), nanos([200_000, 1.25], [2_000, 10]), 'exactly 200K is not over: the base rates');
  t.equal(costNanos(priceOf('gemini', 'gemini-2.5-flash'), long), nanos([260_000, 0.3], [40_000, 0.03], [2_000, 2.5]), 'a model without a tier keeps its flat price');
});

t.test('a 150K-token Claude Haiku 5.5 prompt costs five times the short-prompt rates', async (t) => {
  const haiku = priceOf('anthropic', 'claude-haiku-5-5');
  const usage = (input: number, read: number, write: number) => ({ inputTokens: input, outputTokens: 1_000, cacheReadTokens: read, cacheCreationTokens: write });
  // The prompt Anthropic counts: input + cache reads + cache writes (here 20K + 100K + 30K).
  const long = usage(20_000, 100_000, 30_000);
  t.equal(costNanos(haiku, long), nanos([20_000, 0.5], [100_000, 0.05], [30_000, 0.625], [1_000, 2.5]));
  t.equal(costNanos(haiku, long), 5 * costNanos({ ...haiku, above: undefined }, long), '5 × the same tokens at the base rates');
  t.equal(costNanos(haiku, usage(20_000, 50_000, 30_000)), nanos([20_000, 0.1], [50_000, 0.01], [30_000, 0.125], [1_000, 0.5]), 'a 100K prompt: the base rates');
  t.equal(book.lookup(['anthropic'], 'claude-haiku-5-5-20261007')?.key, 'claude-haiku-5-5*', 'a dated id too');
});

t.test('Sonnet 4 and 4.5 bill over 200K input tokens at the long-context rates; Sonnet 4.6 stays flat', async (t) => {
  const long = { inputTokens: 150_000, outputTokens: 1_000, cacheReadTokens: 60_000, cacheCreationTokens: 0 };
  const longRate = nanos([150_000, 6], [60_000, 0.6], [1_000, 22.5]);
  t.equal(costNanos(priceOf('anthropic', 'claude-sonnet-4-5-20250929'), long), longRate);
  t.equal(costNanos(priceOf('anthropic', 'claude-sonnet-4-20250514'), long), longRate);
  t.equal(costNanos(priceOf('anthropic', 'claude-sonnet-4-0'), long), longRate);
  t.equal(costNanos(priceOf('anthropic', 'claude-sonnet-4-6'), long), nanos([150_000, 3], [60_000, 0.3], [1_000, 15]));
});

t.test('1-hour cache writes cost 2 × input; the rest of the writes are 5-minute ones', async (t) => {
  const sonnet = priceOf('anthropic', 'claude-sonnet-4-5');
  t.equal(sonnet.cache_write_1h, 6, 'defaulted to 2 × input');
  const usage = { inputTokens: 100, outputTokens: 10, cacheReadTokens: 0, cacheCreationTokens: 1_000, cacheCreation1hTokens: 800 };
  t.equal(costNanos(sonnet, usage), nanos([100, 3], [10, 15], [200, 3.75], [800, 6]));
  t.equal(costNanos(sonnet, { ...usage, cacheCreation1hTokens: 5_000 }), nanos([100, 3], [10, 15], [1_000, 6]), 'never more 1-hour writes than writes');
  const own = new PriceBook({ p: { models: { m: { input: 1, output: 1, cache_write_1h: 1.5 } } } });
  t.equal(own.lookup(['p'], 'm')?.price.cache_write_1h, 1.5, 'a price of its own');
});

/** One Anthropic stream, with the split in `message_start` as the API sends it. */
const SPLIT_USAGE = {
  input_tokens: 50, output_tokens: 20, cache_read_input_tokens: 0, cache_creation_input_tokens: 10_000,
  cache_creation: { ephemeral_5m_input_tokens: 4_000, ephemeral_1h_input_tokens: 6_000 },
};

t.test('Anthropic: the split is read from a stream, a JSON answer and a Bedrock InvokeModel body', async (t) => {
  const sse = anthropicMeter('text/event-stream')!;
  const start = { type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], usage: { ...SPLIT_USAGE, output_tokens: 1 } } };
  const { cache_creation: _split, ...delta } = SPLIT_USAGE; // message_delta repeats the totals, not the split
  sse.write(Buffer.from(`event: message_start\ndata: ${JSON.stringify(start)}\n\nevent: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: delta })}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n`));
  sse.end();
  t.equal(sse.usage.cacheCreation1hTokens, 6_000, 'stream: from message_start, kept through message_delta');
  t.equal(sse.usage.cacheCreationTokens, 10_000);

  const body = JSON.stringify({ id: 'm', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: SPLIT_USAGE });
  const json = anthropicMeter('application/json')!;
  json.write(Buffer.from(body));
  json.end();
  t.equal(json.usage.cacheCreation1hTokens, 6_000, 'JSON answer');
  t.equal(json.usage.cacheCreationTokens, 10_000);

  const headers = { 'x-amzn-bedrock-input-token-count': '50', 'x-amzn-bedrock-output-token-count': '20', 'x-amzn-bedrock-cache-write-input-token-count': '10000' };
  const bedrock = bedrockJsonMeter(headers, false);
  bedrock.write(Buffer.from(body));
  bedrock.end();
  t.match(bedrock.usage, { inputTokens: 50, outputTokens: 20, cacheCreationTokens: 10_000, cacheCreation1hTokens: 6_000 }, 'InvokeModel: counts from the headers, the split from the body');
  t.equal(bedrock.usageFinal, true);
});

t.test('a stream with 1-hour cache writes: the audit line prices them at 2 × input and carries their count', async (t) => {
  const mock = await AnthropicMock.start({ apiKey: GATEWAY_KEY, usage: SPLIT_USAGE });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `providers:
  anthropic:
    api_key: "${GATEWAY_KEY}"
    base_url: ${mock.url}
filters:
  - name: cost
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 20 }
`);
  const file = path.join(gw.dir, 'audit.log');
  const res = await post(`${gw.url}/v1/claude/v1/messages`, {}, messages({ model: 'claude-sonnet-4-5', stream: true }));
  t.equal(res.status, 200);
  t.match(res.text, /ephemeral_1h_input_tokens/, 'the stream reaches the client as sent');
  const plain = await post(`${gw.url}/v1/claude/v1/messages`, {}, messages({ model: 'claude-sonnet-4-5' }));
  t.equal(plain.status, 200);
  t.ok(await waitFor(() => auditLines(file).length === 2));
  const expected = nanos([50, 3], [20, 15], [4_000, 3.75], [6_000, 6]) / 1e9;
  for (const [line, what] of [[auditLines(file)[0], 'stream'], [auditLines(file)[1], 'JSON']] as const) {
    t.equal(line.cost_usd, expected, `${what}: 6K writes at $6, 4K at $3.75`);
    t.equal(line.cache_creation_tokens, 10_000, `${what}: all the writes, as before`);
    t.equal(line.cache_creation_1h_tokens, 6_000, `${what}: the 1-hour ones`);
  }
});

t.test('the price file validation refuses a malformed tier, and says what is wrong', async (t) => {
  const ok = { input: 1, output: 2 };
  t.equal(priceIssue({ ...ok, above: { prompt_tokens: 200000, input: 2, output: 4 } }), undefined);
  t.match(priceIssue({ ...ok, above: 'twice' }), /^above: must be a mapping/);
  t.match(priceIssue({ ...ok, above: { input: 2, output: 4 } }), /^above\.prompt_tokens: must be an integer ≥ 1 .*not undefined/);
  t.match(priceIssue({ ...ok, above: { prompt_tokens: '200K', input: 2, output: 4 } }), /^above\.prompt_tokens: .*not "200K"/);
  t.match(priceIssue({ ...ok, above: { prompt_tokens: 0.5, input: 2, output: 4 } }), /^above\.prompt_tokens/);
  t.match(priceIssue({ ...ok, above: { prompt_tokens: 1000, input: 2 } }), /^above: needs numeric "input" and "output"/);
  t.match(priceIssue({ ...ok, above: { prompt_tokens: 1000, input: 2, output: -4 } }), /^above: output: must be a number ≥ 0/);
  t.match(priceIssue({ ...ok, above: { prompt_tokens: 1000, input: 2, output: 4, above: {} } }), /^above: "above" is not a price/, 'no tier inside a tier');
  t.match(priceIssue({ ...ok, cache_write_1h: 'twice' }), /^cache_write_1h: must be a number/);
  t.throws(() => new PriceBook({ p: { models: { m: { ...ok, above: { prompt_tokens: 10, input: 1 } } } } }), /model "m": above: needs numeric "input" and "output"/);
});
