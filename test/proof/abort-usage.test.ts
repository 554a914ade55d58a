/**
 * A client that reads a whole streamed answer and hangs up just before its usage report
 * (Anthropic's `message_delta`, OpenAI's usage chunk) is charged an estimate of what it
 * read, not the placeholder count it saw (1 output token, or nothing at all): rate limits,
 * the outcome and the audit line (`tokens_estimated`) agree. A stream that ends with its
 * report is charged exactly that report.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../helpers/outcome-recorder.js';
import { IDENTITY_PLUGIN, usageOf } from '../helpers/rate-limit.js';
import { auditLines, waitFor } from '../filters/fixtures.js';

const WORDS = 40;
const WORD = 'token ok '; // 9 characters a delta
const TPM = 6000; // refills 100 a second: small beside what is checked

const sse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const chunk = (delta: unknown, finish: string | null = null, usage?: unknown): string =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: usage ?? null })}\n\n`;

/** An upstream that streams a whole answer, then sends its usage report only if `complete`. */
async function upstream(t: Test, complete: boolean) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (req.url!.endsWith('/messages')) {
        res.write(sse('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 300, output_tokens: 1 } } }));
        res.write(sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
        // Deltas arrive one per chunk (skipped unread by the meter) and several to a chunk.
        for (let i = 0; i < WORDS / 2; i++) res.write(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: WORD } }));
        res.write(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: WORD } }).repeat(WORDS / 2) + sse('ping', { type: 'ping' }));
        res.write(sse('content_block_stop', { type: 'content_block_stop', index: 0 }));
        if (!complete) return; // held open: the client hangs up here
        res.write(sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 77 } }));
        res.end(sse('message_stop', { type: 'message_stop' }));
      } else {
        res.write(chunk({ role: 'assistant', content: '' }));
        for (let i = 0; i < WORDS; i++) res.write(chunk({ content: WORD }));
        res.write(chunk({}, 'stop'));
        if (!complete) return;
        res.write(`data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [], usage: { prompt_tokens: 500, completion_tokens: 41 } })}\n\n`);
        res.end('data: [DONE]\n\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function setup(t: Test, complete: boolean) {
  const url = await upstream(t, complete);
  const gw = await startGateway(t, JSON.stringify({
    providers: { anthropic: { api_key: 'sk-ant-upstream', base_url: url }, openai: { api_key: 'sk-upstream', base_url: url } },
    filters: [
      { name: 'identity', plugin: IDENTITY_PLUGIN },
      { name: 'rate-limit', config: { bytes_per_token: 1e9, max_reserved_tokens: 1 } },
      { name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } },
      { name: 'recorder', plugin: OUTCOME_RECORDER_PATH },
    ],
    rate_limits: { default: { requests_per_minute: 100, tokens_per_minute: TPM } },
  }));
  return { gw, audit: () => auditLines(path.join(gw.dir, 'audit.log')) };
}

/** Send a streamed request; read until `until` shows in the answer, then hang up. Returns the request id. */
function readThenHangUp(base: string, p: string, user: string, body: string, until: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer')), 5000);
    const req = http.request(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': user } }, (res) => {
      const id = String(res.headers['x-request-id']);
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        if (until !== undefined && text.includes(until)) req.destroy();
      });
      res.on('close', () => {
        clearTimeout(timer);
        resolve(id);
      });
    });
    req.on('error', () => undefined); // our own hang-up
    req.end(body);
  });
}

const ANTHROPIC_BODY = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'Tell me a story' }] });
const OPENAI_BODY = JSON.stringify({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Tell me a story' }] });

t.test('Anthropic: hung up after the last delta, before message_delta', async (t) => {
  const s = await setup(t, false);
  const id = await readThenHangUp(s.gw.url, '/v1/claude/v1/messages', 'ann', ANTHROPIC_BODY, '"content_block_stop"');
  const { outcome } = await outcomeFor(id);
  t.equal(outcome.status, 499);
  const expected = Math.ceil((WORDS * WORD.length) / 4);
  t.equal(outcome.usage.inputTokens, 300, 'the input message_start reported is kept');
  t.equal(outcome.usage.outputTokens, expected, `output estimated from the ${WORDS * WORD.length} characters read (was the placeholder 1)`);
  t.equal(outcome.usageEstimated, true);
  t.ok(await waitFor(() => s.audit().some((l) => l.request_id === id)));
  t.match(s.audit().find((l) => l.request_id === id), { status: 499, tokens_in: 300, tokens_out: expected, tokens_estimated: true });
  const tokens = await usageOf(s.gw.url, 'ann', 'user', 'tokens');
  t.ok(TPM - tokens.remaining >= 300 + expected - 50, `the limit was charged the estimate (${TPM - tokens.remaining} used)`);
});

t.test('OpenAI: hung up after the finish chunk, before the usage chunk', async (t) => {
  const s = await setup(t, false);
  const id = await readThenHangUp(s.gw.url, '/v1/openai/v1/chat/completions', 'bob', OPENAI_BODY, '"finish_reason":"stop"');
  const { outcome } = await outcomeFor(id);
  t.equal(outcome.status, 499);
  t.equal(outcome.usage.inputTokens, Math.ceil(Buffer.byteLength(OPENAI_BODY) / 4), 'input estimated from the request (none was reported)');
  // A token a chunk, or the text over four where that is more (9 characters a chunk here).
  t.equal(outcome.usage.outputTokens, Math.max(WORDS, Math.ceil((WORDS * WORD.length) / 4)), `estimated from the chunks' text (${outcome.usage.outputTokens}; was 0)`);
  t.equal(outcome.usageEstimated, true);
  t.ok(await waitFor(() => s.audit().some((l) => l.request_id === id)));
  t.match(s.audit().find((l) => l.request_id === id), { tokens_out: outcome.usage.outputTokens, tokens_estimated: true });
  const tokens = await usageOf(s.gw.url, 'bob', 'user', 'tokens');
  t.ok(TPM - tokens.remaining >= WORDS, `the limit was charged (${TPM - tokens.remaining} used; was 0)`);
});

t.test('whole streams are charged their own report, not estimated', async (t) => {
  const s = await setup(t, true);
  const a = await readThenHangUp(s.gw.url, '/v1/claude/v1/messages', 'cat', ANTHROPIC_BODY, undefined);
  const o = await readThenHangUp(s.gw.url, '/v1/openai/v1/chat/completions', 'cat', OPENAI_BODY, undefined);
  const anthropic = (await outcomeFor(a)).outcome;
  const openai = (await outcomeFor(o)).outcome;
  t.equal(anthropic.status, 200);
  t.same([anthropic.usage.inputTokens, anthropic.usage.outputTokens, anthropic.usageEstimated], [300, 77, undefined]);
  t.same([openai.usage.inputTokens, openai.usage.outputTokens, openai.usageEstimated], [500, 41, undefined]);
  t.ok(await waitFor(() => s.audit().filter((l) => l.request_id === a || l.request_id === o).length === 2));
  for (const line of s.audit().filter((l) => l.request_id === a || l.request_id === o)) t.notOk('tokens_estimated' in line);
});
