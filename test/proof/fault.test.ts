/**
 * Fault injection against a local scripted upstream, one table row per fault and dialect:
 * what the client gets (status and body shape in its dialect), the audit line (status,
 * error code and kind), the metric that moves, and that the very next request is served.
 * Retries are off here (test/core/resilience/ proves retries, fallbacks and breakers);
 * Redis, config and reload faults are in fault-ops.test.ts.
 */
import t from 'tap';
import { ask, auditLine, sample, startProof, type Dialect } from './support/harness.js';
import { enormous, jsonThenReset, malformedJson, resetBeforeHead, sseThen, stallHead, status, truncatedFrames, type Reply } from './support/upstream.js';

interface Row {
  name: string;
  dialect: Dialect;
  stream?: boolean;
  reply: Reply;
  status: number;
  /** What the body must show (a regular expression over the text the client read). */
  body: RegExp;
  header?: [string, string | RegExp];
  audit: { status: number; error: string | null; error_kind: string | null };
  /** A metric series that must move by exactly one. */
  metric: [string, Record<string, string>];
}

const cls = (c: string, route: string): [string, Record<string, string>] => ['gateway_requests_total', { route, status_class: c }];
const upstreamErr = (kind: string): [string, Record<string, string>] => ['gateway_upstream_errors_total', { provider: 'anthropic', kind }];
const timeout = (phase: string, target = 'anthropic'): [string, Record<string, string>] => ['gateway_upstream_timeouts_total', { target, phase }];
const passed = (s: number) => ({ status: s, error: 'GW_ERR_UPSTREAM_STATUS', error_kind: 'upstream_status' });
const ANTHROPIC_ERR = /^\{"type":"error","error":\{"type":"api_error","message":"[^"]+"\},"request_id":"[^"]+"\}$/;
const OPENAI_ERR = /^\{"error":\{"message":"[^"]+","type":"[a-z_]+"/;
const SSE_ERROR = /event: error\ndata: \{"type":"error","error":\{"type":"api_error"/;

const ROWS: Row[] = [
  // Anthropic pass-through: upstream answers pass unchanged, the gateway's own failures are Anthropic errors.
  { name: '500', dialect: 'anthropic', reply: status(500), status: 500, body: /upstream says 500/, audit: passed(500), metric: cls('5xx', 'anthropic') },
  { name: '503', dialect: 'anthropic', reply: status(503), status: 503, body: /upstream says 503/, audit: passed(503), metric: cls('5xx', 'anthropic') },
  { name: '529 overloaded', dialect: 'anthropic', reply: status(529), status: 529, body: /"overloaded_error"/, audit: passed(529), metric: cls('5xx', 'anthropic') },
  { name: '429 with retry-after', dialect: 'anthropic', reply: status(429, { 'retry-after': '7' }), status: 429, body: /"rate_limit_error"/, header: ['retry-after', '7'], audit: passed(429), metric: cls('4xx', 'anthropic') },
  { name: 'reset before the head', dialect: 'anthropic', reply: resetBeforeHead, status: 502, body: ANTHROPIC_ERR, audit: { status: 502, error: 'GW_ERR_UPSTREAM_UNREACHABLE', error_kind: 'upstream_error' }, metric: upstreamErr('upstream_error') },
  { name: 'reset mid-stream', dialect: 'anthropic', stream: true, reply: sseThen('reset'), status: 200, body: SSE_ERROR, audit: { status: 200, error: 'GW_ERR_UPSTREAM_PROTOCOL', error_kind: 'upstream_error' }, metric: upstreamErr('upstream_error') },
  // The head came: a body cut by a reset, JSON or a stream, is the upstream's broken answer, not an unreachable upstream.
  { name: 'reset mid-body (JSON)', dialect: 'anthropic', reply: jsonThenReset, status: 200, body: /^\{"id":"msg_1",/, audit: { status: 200, error: 'GW_ERR_UPSTREAM_PROTOCOL', error_kind: 'upstream_error' }, metric: upstreamErr('upstream_error') },
  { name: 'stalled head', dialect: 'anthropic', reply: stallHead, status: 504, body: ANTHROPIC_ERR, audit: { status: 504, error: 'GW_ERR_UPSTREAM_HEADERS_TIMEOUT', error_kind: 'upstream_timeout' }, metric: timeout('headers') },
  { name: 'stalled stream', dialect: 'anthropic', stream: true, reply: sseThen('stall'), status: 200, body: SSE_ERROR, audit: { status: 200, error: 'GW_ERR_UPSTREAM_IDLE_TIMEOUT', error_kind: 'upstream_timeout' }, metric: timeout('idle') },
  { name: 'truncated SSE (clean end mid-event)', dialect: 'anthropic', stream: true, reply: sseThen('truncate'), status: 200, body: /"content_bl$/, audit: { status: 200, error: 'GW_ERR_UPSTREAM_STREAM', error_kind: 'stream_error' }, metric: cls('2xx', 'anthropic') },
  { name: 'malformed JSON (passed through, never patched)', dialect: 'anthropic', reply: malformedJson, status: 200, body: /"te$/, audit: { status: 200, error: null, error_kind: null }, metric: cls('2xx', 'anthropic') },
  // Unified endpoint (OpenAI dialect) in front of the Anthropic upstream: the gateway reads and translates, so it must refuse what it cannot read.
  { name: '503', dialect: 'openai', reply: status(503), status: 503, body: OPENAI_ERR, audit: passed(503), metric: cls('5xx', 'unified') },
  { name: 'reset before the head', dialect: 'openai', reply: resetBeforeHead, status: 502, body: OPENAI_ERR, audit: { status: 502, error: 'GW_ERR_UPSTREAM_UNREACHABLE', error_kind: 'upstream_error' }, metric: upstreamErr('upstream_error') },
  { name: 'malformed JSON', dialect: 'openai', reply: malformedJson, status: 502, body: OPENAI_ERR, audit: { status: 502, error: 'GW_ERR_UPSTREAM_PROTOCOL', error_kind: 'upstream_error' }, metric: upstreamErr('upstream_error') },
  { name: 'reset mid-body (JSON)', dialect: 'openai', reply: jsonThenReset, status: 502, body: OPENAI_ERR, audit: { status: 502, error: 'GW_ERR_UPSTREAM_PROTOCOL', error_kind: 'upstream_error' }, metric: upstreamErr('upstream_error') },
  { name: 'enormous body (24 MiB, over the 16 MiB it reads)', dialect: 'openai', reply: enormous(24), status: 502, body: OPENAI_ERR, audit: { status: 502, error: 'GW_ERR_UPSTREAM_PROTOCOL', error_kind: 'upstream_error' }, metric: upstreamErr('upstream_error') },
  { name: 'stalled stream', dialect: 'openai', stream: true, reply: sseThen('stall'), status: 200, body: /data: \{"error":\{/, audit: { status: 200, error: 'GW_ERR_UPSTREAM_IDLE_TIMEOUT', error_kind: 'upstream_timeout' }, metric: timeout('idle') },
  { name: 'truncated SSE', dialect: 'openai', stream: true, reply: sseThen('truncate'), status: 200, body: /data: \{"error":\{/, audit: { status: 200, error: 'GW_ERR_UPSTREAM_STREAM', error_kind: 'stream_error' }, metric: cls('2xx', 'unified') },
  // Bedrock pass-through: gateway failures carry x-amzn-errortype so the AWS SDKs raise their classes.
  { name: '503', dialect: 'bedrock', reply: status(503, { 'x-amzn-errortype': 'ServiceUnavailableException' }), status: 503, body: /upstream says 503/, header: ['x-amzn-errortype', 'ServiceUnavailableException'], audit: passed(503), metric: cls('5xx', 'bedrock') },
  { name: 'reset before the head', dialect: 'bedrock', reply: resetBeforeHead, status: 502, body: /^\{"message":"[^"]+"\}$/, header: ['x-amzn-errortype', /Exception/], audit: { status: 502, error: 'GW_ERR_UPSTREAM_UNREACHABLE', error_kind: 'upstream_error' }, metric: ['gateway_upstream_errors_total', { provider: 'bedrock', kind: 'upstream_error' }] },
  { name: 'reset mid-body (JSON)', dialect: 'bedrock', reply: jsonThenReset, status: 200, body: /^\{"id":"msg_1",/, audit: { status: 200, error: 'GW_ERR_UPSTREAM_PROTOCOL', error_kind: 'upstream_error' }, metric: ['gateway_upstream_errors_total', { provider: 'bedrock', kind: 'upstream_error' }] },
  { name: 'stalled head', dialect: 'bedrock', reply: stallHead, status: 504, body: /^\{"message":"[^"]+"\}$/, header: ['x-amzn-errortype', /Exception/], audit: { status: 504, error: 'GW_ERR_UPSTREAM_HEADERS_TIMEOUT', error_kind: 'upstream_timeout' }, metric: timeout('headers', 'bedrock') },
  { name: 'truncated event stream (cut mid-frame)', dialect: 'bedrock', stream: true, reply: truncatedFrames, status: 200, body: /./, audit: { status: 200, error: 'GW_ERR_UPSTREAM_STREAM', error_kind: 'stream_error' }, metric: cls('2xx', 'bedrock') },
];

t.test('fault table', async (t) => {
  const proof = await startProof(t);
  let n = 0;
  for (const row of ROWS) {
    const label = `${row.dialect} ${row.name}`;
    const id = `fault-${++n}`;
    const before = sample(await proof.metrics(), row.metric[0], row.metric[1]);
    proof.upstream.script.push(row.reply);
    const got = await ask(proof.url, row.dialect, id, row.stream);
    t.equal(got.status, row.status, `${label}: status`);
    t.match(got.text, row.body, `${label}: body in the ${row.dialect} dialect`);
    if (row.header) t.match(got.headers[row.header[0]], row.header[1], `${label}: ${row.header[0]}`);
    t.match(await auditLine(proof, id), row.audit, `${label}: audit line`);
    const after = sample(await proof.metrics(), row.metric[0], row.metric[1]);
    t.equal(after - before, 1, `${label}: ${row.metric[0]} ${JSON.stringify(row.metric[1])} +1`);
    const next = await ask(proof.url, row.dialect, `${id}-next`, row.stream);
    t.equal(next.status, 200, `${label}: the next request is served`);
  }
  t.comment(`${ROWS.length} fault rows over ${new Set(ROWS.map((r) => r.dialect)).size} dialects`);
});

t.test('an enormous pass-through body streams through whole and is counted, not buffered', async (t) => {
  const proof = await startProof(t);
  const MIB = 64;
  proof.upstream.script.push(enormous(MIB));
  const heapBefore = process.memoryUsage().heapUsed;
  const got = await ask(proof.url, 'anthropic', 'huge-1', false, false);
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  t.equal(got.status, 200);
  t.equal(got.bytes, MIB * 1024 * 1024, 'every byte arrived');
  // One JSON string, no answer: nothing to read, and nothing to estimate either.
  const line = await auditLine(proof, 'huge-1');
  t.match(line, { status: 200, error: null, bytes_out: MIB * 1024 * 1024, tokens_in: 0, tokens_out: 0 }, 'audited with its size, no tokens');
  t.notOk(line?.tokens_estimated, 'not estimated');
  t.comment(`heap growth while ${MIB} MiB passed: ${(heapGrowth / 1048576).toFixed(1)} MiB`);
  t.ok(heapGrowth < (MIB / 2) * 1048576, 'the body was not held in memory');
  t.equal((await ask(proof.url, 'anthropic', 'huge-next')).status, 200, 'the next request is served');
});
