/**
 * A non-streamed answer larger than the JSON meter keeps whole (8 MiB) is still charged its
 * own usage report. With `logprobs` and `top_logprobs: 20` OpenAI spends about a kilobyte a
 * token, and `n` > 1 multiplies it, so an answer of some thousand tokens passes 8 MiB; it
 * used to be counted as 0 tokens in rate limits, budgets, cost and the audit line.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { JSON_METER_LIMIT } from '../../core/stream/json-meter.js';
import { raw } from '../helpers/anthropic.js';
import { startGateway } from '../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../helpers/outcome-recorder.js';

/** One `logprobs.content` entry as OpenAI writes it with `top_logprobs: 20`. */
function logprob(token: string): unknown {
  const top = Array.from({ length: 20 }, (_, i) => ({ token: `${token}${i}`, logprob: -1.234567 * i, bytes: [...Buffer.from(`${token}${i}`)] }));
  return { token, logprob: -0.0001234, bytes: [...Buffer.from(token)], top_logprobs: top };
}

/** A chat completion of `choices` choices with logprobs, past the meter's limit. */
function largeCompletion(): string {
  const content = Array.from({ length: 4000 }, (_, i) => logprob(` w${i}`));
  const choice = (index: number) => ({ index, message: { role: 'assistant', content: 'w '.repeat(4000), refusal: null }, logprobs: { content, refusal: null }, finish_reason: 'stop' });
  const body = JSON.stringify({
    id: 'chatcmpl-big',
    object: 'chat.completion',
    created: 1741570283,
    model: 'gpt-4o-2024-08-06',
    choices: [0, 1, 2].map(choice),
    usage: { prompt_tokens: 1000, completion_tokens: 12000, total_tokens: 13000, prompt_tokens_details: { cached_tokens: 0 } },
    service_tier: 'default',
    system_fingerprint: 'fp_big',
  });
  return body;
}

function largeMessage(): string {
  return JSON.stringify({
    id: 'msg_big',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [{ type: 'text', text: 'word, "quoted" \\ and more '.repeat(400_000) }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 2000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 64000 },
  });
}

async function upstream(t: Test, body: string): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

t.test('OpenAI: a chat completion with logprobs and n=3 past 8 MiB is charged its usage', async (t) => {
  const body = largeCompletion();
  t.ok(body.length > JSON_METER_LIMIT, `the answer is ${(body.length / 2 ** 20).toFixed(1)} MiB`);
  const url = await upstream(t, body);
  const gw = await startGateway(t, `providers:\n  openai: { api_key: sk-gw, base_url: ${url} }\nfilters:\n  - name: recorder\n    plugin: ${OUTCOME_RECORDER_PATH}\n`);
  const res = await raw(gw.url, 'POST', '/v1/openai/v1/chat/completions', { 'content-type': 'application/json' }, JSON.stringify({ model: 'gpt-4o', n: 3, logprobs: true, top_logprobs: 20, messages: [{ role: 'user', content: 'hi' }] }));
  t.equal(res.status, 200);
  t.equal(res.body.length, Buffer.byteLength(body), 'the client got the whole answer');
  const { outcome } = await outcomeFor(String(res.headers['x-request-id']));
  t.same(outcome.usage, { inputTokens: 1000, outputTokens: 12000, cacheCreationTokens: 0, cacheReadTokens: 0 }, 'the counts the answer reports (were 0)');
  t.equal(outcome.usageEstimated, undefined, 'read, not estimated');
});

t.test('Anthropic: a Message past 8 MiB is charged its usage', async (t) => {
  const body = largeMessage();
  t.ok(body.length > JSON_METER_LIMIT);
  const url = await upstream(t, body);
  const gw = await startGateway(t, `providers:\n  anthropic: { api_key: sk-gw, base_url: ${url} }\nfilters:\n  - name: recorder\n    plugin: ${OUTCOME_RECORDER_PATH}\n`);
  const res = await raw(gw.url, 'POST', '/v1/claude/v1/messages', { 'content-type': 'application/json', 'x-api-key': 'c' }, JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64000, messages: [{ role: 'user', content: 'x' }] }));
  t.equal(res.status, 200);
  t.equal(res.body.length, Buffer.byteLength(body));
  const { outcome } = await outcomeFor(String(res.headers['x-request-id']));
  t.same(outcome.usage, { inputTokens: 2000, outputTokens: 64000, cacheCreationTokens: 0, cacheReadTokens: 0 });
  t.equal(outcome.model, 'claude-sonnet-4-5', 'the model asked for is the one audited');
});
