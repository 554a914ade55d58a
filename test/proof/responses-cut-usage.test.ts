/**
 * A Responses API stream the upstream cuts before `response.completed` is charged a token a
 * delta, or the deltas' text over four where that is more: ten deltas of 400 characters are
 * about 1,000 output tokens in the outcome, the audit line and the rate limit, not 10.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../helpers/outcome-recorder.js';
import { IDENTITY_PLUGIN, usageOf } from '../helpers/rate-limit.js';
import { auditLines, waitFor } from '../filters/fixtures.js';

const TPM = 6000; // refills 100 a second: small beside what is checked
const DELTAS = 10;
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(9).slice(0, 400);

const sse = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

const upstream = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.write(sse('response.created', { sequence_number: 0, response: { id: 'resp_1', object: 'response', status: 'in_progress', model: 'gpt-4o', output: [], usage: null } }));
    for (let i = 1; i <= DELTAS; i++) res.write(sse('response.output_text.delta', { sequence_number: i, item_id: 'msg_1', output_index: 0, content_index: 0, delta: TEXT, logprobs: [] }));
    res.end(); // a clean close: no response.completed, no usage
  });
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
t.teardown(() => new Promise<void>((r) => { upstream.closeAllConnections(); upstream.close(() => r()); }));

const gw = await startGateway(t, JSON.stringify({
  providers: { openai: { api_key: 'sk-upstream', base_url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` } },
  filters: [
    { name: 'identity', plugin: IDENTITY_PLUGIN },
    { name: 'rate-limit', config: { bytes_per_token: 1e9, max_reserved_tokens: 1 } },
    { name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } },
    { name: 'recorder', plugin: OUTCOME_RECORDER_PATH },
  ],
  rate_limits: { default: { requests_per_minute: 100, tokens_per_minute: TPM } },
}));

t.test('ten deltas of 400 characters cut before response.completed: ~1,000 output tokens', async (t) => {
  const res = await fetch(`${gw.url}/v1/openai/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'dee' }, body: JSON.stringify({ model: 'gpt-4o', input: 'Tell me a story', stream: true }) });
  const id = res.headers.get('x-request-id')!;
  await res.text();
  const expected = Math.ceil((DELTAS * TEXT.length) / 4);
  const { outcome } = await outcomeFor(id);
  t.equal(outcome.usage.outputTokens, expected, `output estimated from the deltas' text (${outcome.usage.outputTokens}; was ${DELTAS})`);
  t.equal(outcome.usageEstimated, true);
  const audit = () => auditLines(path.join(gw.dir, 'audit.log'));
  t.ok(await waitFor(() => audit().some((l) => l.request_id === id)));
  t.match(audit().find((l) => l.request_id === id), { tokens_out: expected, tokens_estimated: true });
  const tokens = await usageOf(gw.url, 'dee', 'user', 'tokens');
  t.ok(TPM - tokens.remaining >= expected - 200, `the limit was charged the estimate (${TPM - tokens.remaining} used)`);
});
