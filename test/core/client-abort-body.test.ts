/**
 * A client that goes away while its request body is still arriving is a client abort
 * (499, `GW_ERR_CLIENT_ABORT`), however it leaves: an HTTP/1.1 socket closed with a FIN
 * (Node's parser then reports the body cut short at end of input) or a reset, an HTTP/2
 * stream reset. Before, the FIN case was answered and audited as a malformed body (400
 * `GW_ERR_REQUEST_INVALID`, error_kind `rejected`), to a client no longer there.
 */
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../helpers/outcome-recorder.js';
import { AnthropicMock } from '../mocks/anthropic-mock.js';
import { auditLines, waitFor } from '../filters/fixtures.js';

const KEY = 'sk-ant-gateway-abort-body-000000';
const BODY = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Tell me a long story' }] });
const PART = BODY.slice(0, 20);

async function setup(t: Test) {
  const mock = await AnthropicMock.start({ apiKey: KEY });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, JSON.stringify({
    providers: { anthropic: { api_key: KEY, base_url: mock.url } },
    filters: [
      { name: 'audit', config: { stdout: false, file: 'audit.log', flush_interval_ms: 10 } },
      { name: 'recorder', plugin: OUTCOME_RECORDER_PATH },
    ],
  }));
  return { mock, gw, audit: () => auditLines(path.join(gw.dir, 'audit.log')) };
}

/** Sends the head and part of the body, waits until the gateway is reading it, then leaves with `leave`. */
async function partialH1(url: string, id: string, framing: 'length' | 'chunked', leave: (s: net.Socket) => void): Promise<string> {
  const u = new URL(url);
  const s = net.connect(Number(u.port), u.hostname);
  let got = '';
  s.on('data', (d: Buffer) => (got += d.toString('latin1')));
  s.on('error', () => {});
  const closed = new Promise((r) => s.once('close', r));
  const length = framing === 'length' ? `content-length: ${BODY.length}\r\n` : 'transfer-encoding: chunked\r\n';
  const piece = framing === 'length' ? PART : `${PART.length.toString(16)}\r\n${PART}\r\n`;
  s.write(`POST /v1/claude/v1/messages HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\nx-request-id: ${id}\r\n${length}\r\n${piece}`);
  await new Promise((r) => setTimeout(r, 100));
  leave(s);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
  s.destroy();
  return got;
}

async function checkAborted(t: Test, s: Awaited<ReturnType<typeof setup>>, id: string): Promise<void> {
  const { outcome } = await outcomeFor(id);
  t.equal(outcome.status, 499, 'the outcome is a client abort');
  t.equal(outcome.error?.code, 'GW_ERR_CLIENT_ABORT');
  t.equal(outcome.error?.kind, 'client_abort');
  t.ok(await waitFor(() => s.audit().some((l) => l.request_id === id)));
  t.match(s.audit().find((l) => l.request_id === id), { status: 499, error: 'GW_ERR_CLIENT_ABORT', error_kind: 'client_abort', replied_by: null });
  t.equal(s.mock.requests.length, 0, 'nothing reached the upstream');
  const metrics = await (await fetch(`${s.gw.url}/metrics`)).text();
  t.match(metrics, /gateway_in_flight_requests 0\b/, 'nothing left in flight');
}

for (const framing of ['length', 'chunked'] as const) {
  t.test(`HTTP/1.1 (${framing}): the client closes its socket (FIN) mid-body`, async (t) => {
    const s = await setup(t);
    const id = `abort-body-fin-${framing}`;
    const answer = await partialH1(s.gw.url, id, framing, (sock) => sock.end());
    t.notMatch(answer, /^HTTP\/1\.1 400/, 'no 400 for a body its client cut short');
    await checkAborted(t, s, id);
  });

  t.test(`HTTP/1.1 (${framing}): the client resets its socket mid-body`, async (t) => {
    const s = await setup(t);
    const id = `abort-body-rst-${framing}`;
    await partialH1(s.gw.url, id, framing, (sock) => sock.resetAndDestroy());
    await checkAborted(t, s, id);
  });
}

// Cancelled through its AbortSignal, Node's client sends RST_STREAM(CANCEL) alone, as browsers,
// curl and Go do. `stream.close(NGHTTP2_CANCEL)` first sends END_STREAM (an empty DATA frame)
// in a write of its own: with a content-length nghttp2 resets the short body itself; without
// one the gateway has a whole (cut) JSON body to answer (400) before the reset comes.
const H2_CASES = [
  { framing: 'length', leave: 'signal' },
  { framing: 'no length', leave: 'signal' },
  { framing: 'length', leave: 'close' },
] as const;
for (const { framing, leave } of H2_CASES) {
  t.test(`HTTP/2 (${framing}): the client resets its stream (CANCEL, by ${leave}) mid-body`, async (t) => {
    const s = await setup(t);
    const session = http2.connect(s.gw.url);
    t.teardown(() => session.close());
    const id = `abort-body-h2-${framing.replace(' ', '-')}-${leave}`;
    const head: http2.OutgoingHttpHeaders = { ':method': 'POST', ':path': '/v1/claude/v1/messages', 'content-type': 'application/json', 'x-request-id': id };
    if (framing === 'length') head['content-length'] = String(BODY.length);
    const cancel = new AbortController();
    const stream = session.request(head, { signal: cancel.signal });
    stream.on('error', () => {});
    stream.write(PART);
    await new Promise((r) => setTimeout(r, 100));
    if (leave === 'signal') cancel.abort();
    else stream.close(http2.constants.NGHTTP2_CANCEL);
    await checkAborted(t, s, id);
  });
}
