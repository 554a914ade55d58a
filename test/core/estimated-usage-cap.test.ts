/**
 * An answer cut before its usage report is charged estimates, and a non-streamed one's
 * output is estimated from its bytes. OpenAI's `logprobs` make those bytes many times the
 * text: each token carries its own entry and `top_logprobs` alternatives, none of them billed
 * (`completion_tokens` counts the tokens generated). The estimate is bounded by what the
 * request allows (its cap times its completions, what admission reserved); a request that
 * names no cap keeps the byte estimate.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { emptyUsage } from '../../core/context.js';
import { completeUsage, outputCapOf } from '../../core/stream/estimated-usage.js';
import { startGateway } from '../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../helpers/outcome-recorder.js';
import { IDENTITY_PLUGIN } from '../helpers/rate-limit.js';

const TOKENS = 200;
/** `n` choices of TOKENS tokens each, with logprobs and 5 alternatives a token, then the usage. */
function logprobsAnswer(n: number): string {
  const entry = (token: string) => ({ token, logprob: -0.0123, bytes: [...Buffer.from(token)] });
  const choice = (index: number) => ({
    index,
    message: { role: 'assistant', content: ' word'.repeat(TOKENS) },
    logprobs: { content: Array.from({ length: TOKENS }, () => ({ ...entry(' word'), top_logprobs: [' word', ' Word', ' words', ' world', ' ward'].map(entry) })) },
    finish_reason: 'length',
  });
  return JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: Array.from({ length: n }, (_, i) => choice(i)), usage: { prompt_tokens: 12, completion_tokens: TOKENS * n, total_tokens: 12 + TOKENS * n } });
}

/** An upstream that sends all of the answer but its usage, then cuts the connection. */
async function cuttingUpstream(t: Test): Promise<string> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = (JSON.parse(Buffer.concat(chunks).toString()) as { n?: number }).n ?? 1;
      const full = logprobsAnswer(n);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(full) });
      res.write(full.slice(0, full.indexOf('"usage"')));
      setTimeout(() => res.destroy(), 50);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function cutAnswer(t: Test, request: Record<string, unknown>) {
  const url = await cuttingUpstream(t);
  const gw = await startGateway(t, JSON.stringify({
    providers: { openai: { api_key: 'sk-upstream', base_url: url } },
    filters: [{ name: 'identity', plugin: IDENTITY_PLUGIN }, { name: 'recorder', plugin: OUTCOME_RECORDER_PATH }],
  }));
  const res = await fetch(`${gw.url}/v1/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user': 'ann' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say word.' }], logprobs: true, top_logprobs: 5, ...request }),
  });
  await res.arrayBuffer().catch(() => undefined); // cut: the body fails
  return (await outcomeFor(res.headers.get('x-request-id')!)).outcome;
}

t.test('a logprobs answer cut before its usage is charged at most its max_tokens', async (t) => {
  const bytes = Buffer.byteLength(logprobsAnswer(1).split('"usage"')[0]);
  t.ok(bytes / 4 > 10 * TOKENS, `its bytes read as ${Math.ceil(bytes / 4)} tokens for ${TOKENS} generated`);
  const outcome = await cutAnswer(t, { max_tokens: TOKENS });
  t.equal(outcome.usageEstimated, true, 'estimated');
  t.equal(outcome.usage.outputTokens, TOKENS, 'no more than the cap (was the bytes / 4)');
});

t.test('with n choices the bound is n × max_completion_tokens; without a cap the bytes still count', async (t) => {
  const two = await cutAnswer(t, { max_completion_tokens: TOKENS, n: 2 });
  t.equal(two.usage.outputTokens, 2 * TOKENS);
  const uncapped = await cutAnswer(t, {});
  t.equal(uncapped.usage.outputTokens, Math.ceil(Buffer.byteLength(logprobsAnswer(1).split('"usage"')[0]) / 4), 'no cap named: a quarter of the bytes delivered');
});

t.test('completeUsage: the cap bounds the estimate, never a reported count', async (t) => {
  const meter = (estimatedOutputTokens: number, usage = emptyUsage()) => ({ usage, usageFinal: false, estimatedOutputTokens, write() {}, end() {} });
  const capped = emptyUsage();
  completeUsage(capped, meter(5000, capped), 40, 300);
  t.same([capped.inputTokens, capped.outputTokens], [10, 300]);
  const reported = { ...emptyUsage(), inputTokens: 7, outputTokens: 450 };
  completeUsage(reported, meter(5000, reported), 40, 300);
  t.equal(reported.outputTokens, 450, 'a larger reported count is kept');
  t.equal(outputCapOf({ maxOutputTokens: undefined, outputChoices: 3 }), undefined);
  t.equal(outputCapOf({ maxOutputTokens: 100, outputChoices: 3 }), 300);
});
