/**
 * A non-streamed answer is generated (and billed upstream) whole before its head is sent.
 * One the client reads nearly to its end and then abandons, or one the upstream cuts, never
 * shows the gateway its trailing `usage`: it is charged estimates, as a cut stream is
 * (output from the bytes delivered, input from the request when none was read), in the
 * outcome, rate limits and the audit line (`tokens_estimated`). It used to be charged
 * nothing. A whole answer is charged exactly its report, and an error answer nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import { auditLines, waitFor } from '../filters/fixtures.js';
import { startGateway } from '../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../helpers/outcome-recorder.js';
import { IDENTITY_PLUGIN, usageOf } from '../helpers/rate-limit.js';

const TEXT = 'word '.repeat(36_000); // ~45k tokens of answer, as a long max_tokens answer would be
const TPM = 60_000; // refills 1000 a second: small beside the estimate checked
/** What the upstream sends last and the client never reads: the usage member. */
const TAIL = 200;

const ANSWERS = {
  anthropic: JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: TEXT }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 20000, output_tokens: 40000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } }),
  openai: JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: TEXT }, finish_reason: 'stop' }], usage: { prompt_tokens: 20000, completion_tokens: 40000, total_tokens: 60000 } }),
};
type Provider = keyof typeof ANSWERS;

const ROUTES: Record<Provider, { path: string; body: string }> = {
  anthropic: { path: '/v1/claude/v1/messages', body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64000, messages: [{ role: 'user', content: 'Write at length.' }] }) },
  openai: { path: '/v1/openai/v1/chat/completions', body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Write at length.' }] }) },
};

/** How the upstream answers: whole; all but the tail, then held open; all but the tail, then the connection cut; a 429. */
type Mode = 'whole' | 'hold' | 'cut' | 'error';

async function upstream(t: Test, mode: Mode): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url!.endsWith('/count_tokens')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"input_tokens":12}');
        return;
      }
      const full = req.url!.endsWith('/messages') ? ANSWERS.anthropic : ANSWERS.openai;
      if (mode === 'error') {
        res.writeHead(429, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down '.repeat(50) } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(full) });
      if (mode === 'whole') return void res.end(full);
      res.write(full.slice(0, -TAIL));
      if (mode === 'cut') setTimeout(() => res.destroy(), 100);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function setup(t: Test, mode: Mode) {
  const url = await upstream(t, mode);
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

/** POST `body`; hang up once `until` bytes of the answer came (or read it all). The request id and the bytes read. */
function readThenHangUp(base: string, p: string, user: string, body: string, until = Infinity): Promise<{ id: string; read: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer')), 10_000);
    const req = http.request(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': user }, agent: false }, (res) => {
      let read = 0;
      res.on('data', (c: Buffer) => {
        read += c.length;
        if (read >= until) req.destroy();
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        clearTimeout(timer);
        resolve({ id: String(res.headers['x-request-id']), read });
      });
    });
    req.on('error', () => undefined); // our own hang-up
    req.end(body);
  });
}

for (const provider of ['anthropic', 'openai'] as const) {
  const route = ROUTES[provider];
  const sent = Buffer.byteLength(ANSWERS[provider]) - TAIL;
  const output = Math.ceil(sent / 4);
  const input = Math.ceil(Buffer.byteLength(route.body) / 4);

  t.test(`${provider}: the client reads all but the usage and hangs up`, async (t) => {
    const s = await setup(t, 'hold');
    const { id, read } = await readThenHangUp(s.gw.url, route.path, 'ann', route.body, sent);
    t.equal(read, sent, 'the client read the whole answer text');
    const { outcome } = await outcomeFor(id);
    t.equal(outcome.status, 499);
    t.same([outcome.usage.inputTokens, outcome.usage.outputTokens], [input, output], 'input from the request, output from the bytes delivered (were 0)');
    t.equal(outcome.usageEstimated, true);
    t.ok(await waitFor(() => s.audit().some((l) => l.request_id === id)));
    t.match(s.audit().find((l) => l.request_id === id), { status: 499, tokens_in: input, tokens_out: output, tokens_estimated: true });
    const tokens = await usageOf(s.gw.url, 'ann', 'user', 'tokens');
    t.ok(TPM - tokens.remaining >= (input + output) * 0.7, `the limit was charged the estimate (${TPM - tokens.remaining} used of ${input + output})`);
  });

  t.test(`${provider}: the upstream cuts the answer before the usage`, async (t) => {
    const s = await setup(t, 'cut');
    const { id } = await readThenHangUp(s.gw.url, route.path, 'bob', route.body);
    const { outcome } = await outcomeFor(id);
    t.ok(outcome.error, `audited as failed (${outcome.error?.code})`);
    t.same([outcome.usage.inputTokens, outcome.usage.outputTokens], [input, output]);
    t.equal(outcome.usageEstimated, true);
  });

  t.test(`${provider}: a whole answer is charged its report; an error answer nothing`, async (t) => {
    const s = await setup(t, 'whole');
    const whole = await readThenHangUp(s.gw.url, route.path, 'cat', route.body);
    const { outcome } = await outcomeFor(whole.id);
    t.equal(outcome.status, 200);
    t.same([outcome.usage.inputTokens, outcome.usage.outputTokens, outcome.usageEstimated], [20000, 40000, undefined]);
    t.ok(await waitFor(() => s.audit().some((l) => l.request_id === whole.id)));
    t.notOk('tokens_estimated' in s.audit().find((l) => l.request_id === whole.id)!);

    const e = await setup(t, 'error');
    const refused = (await outcomeFor((await readThenHangUp(e.gw.url, route.path, 'dan', route.body)).id)).outcome;
    t.equal(refused.status, 429);
    t.same([refused.usage.inputTokens, refused.usage.outputTokens, refused.usageEstimated], [0, 0, undefined], 'a 429 generated nothing');
  });
}

t.test('an auxiliary call (count_tokens) is not estimated', async (t) => {
  const s = await setup(t, 'whole');
  const { id } = await readThenHangUp(s.gw.url, '/v1/claude/v1/messages/count_tokens', 'eve', ROUTES.anthropic.body);
  const { outcome } = await outcomeFor(id);
  t.equal(outcome.status, 200);
  t.same([outcome.usage.inputTokens, outcome.usage.outputTokens, outcome.usageEstimated], [0, 0, undefined]);
});
