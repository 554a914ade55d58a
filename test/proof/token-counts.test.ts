/**
 * Token counts that are no counts, from a client (`max_tokens: -1e9`) or from an upstream
 * (`"output_tokens": 1e400`, a negative count): they feed the rate limiter's and budgets'
 * shared arithmetic and Prometheus counters. Before core checked them, a negative cap
 * reserved a negative cost and its reconcile added its size to the global scope (every
 * other user got 429 for days, or 500 on Anthropic routes), and an infinite or negative
 * usage count threw in the metrics at the request's end (an uncaught exception on a
 * translated route; on a pass-through no audit line and a request left in flight).
 */
import type http from 'node:http';
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { contextWithBody } from '../helpers/context.js';
import { auditLines, waitFor } from '../filters/fixtures.js';
import { anthropicEvents, ScriptedUpstream, type Reply } from './support/upstream.js';

const yaml = (upstream: string): string => `server: { host: 127.0.0.1, drain_timeout_ms: 1000 }
providers:
  anthropic: { api_key: sk-ant-counts-0000000000, base_url: "${upstream}" }
  openai: { api_key: sk-counts-openai-00000000, base_url: "${upstream}" }
filters:
  - name: auth
  - name: cost
  - name: rate-limit
  - name: validator
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 10 }
workspaces:
  ws-counts-1: { user: alice, project: counts }
  ws-counts-2: { user: bob, project: counts }
rate_limits:
  global: { requests_per_minute: 1000, tokens_per_minute: 1000000 }
  default: { requests_per_minute: 100, tokens_per_minute: 100000 }
`;

async function start(t: { teardown(fn: () => unknown): void }): Promise<{ url: string; upstream: ScriptedUpstream; logs: Array<Record<string, unknown>>; audit: () => Array<Record<string, unknown>> }> {
  const upstream = await ScriptedUpstream.start();
  t.teardown(() => upstream.close());
  const gw = await startGateway(t, yaml(upstream.url));
  return { url: gw.url, upstream, logs: gw.logs, audit: () => auditLines(path.join(gw.dir, 'audit.log')) };
}

async function send(url: string, body: string, workspace: string, id?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': workspace, ...(id ? { 'x-request-id': id } : {}) }, body });
  return { status: res.status, text: await res.text() };
}

const MESSAGES = '/v1/claude/v1/messages';
const CHAT = '/v1/chat/completions';
const NORMAL = '{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}';

t.test('a cap that is no count is none', async (t) => {
  const ctx = contextWithBody(Buffer.alloc(0));
  for (const [cap, kept] of [[16, 16], [0, 0], [-1, undefined], [-1e9, undefined], [1e300, undefined], [Infinity, undefined], [NaN, undefined], [1e9, 1e9]] as const) {
    ctx.maxOutputTokens = cap;
    t.equal(ctx.maxOutputTokens, kept, String(cap));
  }
});

const CAPS: Array<[string, string, string]> = [
  ['Anthropic, max_tokens -1e9', MESSAGES, '{"model":"claude-sonnet-4-5","max_tokens":-1e9,"messages":[{"role":"user","content":"hi"}]}'],
  ['Anthropic, max_tokens -1e300', MESSAGES, '{"model":"claude-sonnet-4-5","max_tokens":-1e300,"messages":[{"role":"user","content":"hi"}]}'],
  ['unified, max_tokens -1e9', CHAT, '{"model":"claude-sonnet-4-5","max_tokens":-1e9,"messages":[{"role":"user","content":"hi"}]}'],
  ['unified, max_completion_tokens -1e300', CHAT, '{"model":"gpt-4o","max_completion_tokens":-1e300,"messages":[{"role":"user","content":"hi"}]}'],
];

for (const [label, route, body] of CAPS) {
  t.test(`${label}: other users are not locked out`, async (t) => {
    const gw = await start(t);
    const bad = await send(gw.url + route, body, 'ws-counts-1');
    t.not(bad.status, 500, `the request itself: ${bad.status}`);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the limiter's adjustments are batched
    for (const other of [MESSAGES, CHAT]) {
      const r = await send(gw.url + other, NORMAL, 'ws-counts-2');
      t.equal(r.status, 200, `another user on ${other}: ${r.status} ${r.text.slice(0, 120)}`);
    }
    const again = await send(gw.url + MESSAGES, NORMAL, 'ws-counts-1');
    t.equal(again.status, 200, 'and the same user');
  });
}

const raw = (type: string, text: string): Reply => (_q: http.IncomingMessage, r: http.ServerResponse) => {
  r.writeHead(200, { 'content-type': type });
  r.end(text);
};
const message = (usage: string): string => `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"x"}],"stop_reason":"end_turn","usage":${usage}}`;
const streamWith = (usage: string): Reply => (_q, r) => {
  r.writeHead(200, { 'content-type': 'text/event-stream' });
  const events = anthropicEvents('a b');
  events[events.length - 2] = `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":${usage}}\n\n`;
  for (const e of events) r.write(e);
  r.end();
};
const UNIFIED = '{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}';

const USAGES: Array<[string, string, string, Reply, string]> = [
  ['Anthropic JSON, output_tokens 1e400', MESSAGES, NORMAL, raw('application/json', message('{"input_tokens":10,"output_tokens":1e400}')), 'outputTokens=Infinity'],
  ['Anthropic stream, output_tokens 1e400', MESSAGES, NORMAL.replace('"max_tokens":16', '"max_tokens":16,"stream":true'), streamWith('{"output_tokens":1e400}'), 'outputTokens=Infinity'],
  ['Anthropic JSON, output_tokens 1e12', MESSAGES, NORMAL, raw('application/json', message('{"input_tokens":10,"output_tokens":1e12}')), 'outputTokens=1000000000000'],
  ['unified from Anthropic, input_tokens -3', CHAT, UNIFIED, raw('application/json', message('{"input_tokens":-3,"output_tokens":5}')), 'inputTokens=-3'],
  [
    'unified to OpenAI, completion_tokens -1',
    CHAT,
    UNIFIED.replace('claude-sonnet-4-5', 'gpt-4o'),
    raw('application/json', '{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":-1,"total_tokens":9}}'),
    'outputTokens=-1',
  ],
];

for (const [label, route, body, reply, field] of USAGES) {
  t.test(`an upstream's ${label}: counted as 0, the request ends, the gateway serves on`, async (t) => {
    const uncaught: Error[] = [];
    const onUncaught = (err: Error): void => void uncaught.push(err);
    process.prependListener('uncaughtException', onUncaught);
    t.teardown(() => void process.removeListener('uncaughtException', onUncaught));
    const gw = await start(t);
    gw.upstream.script.push(reply);
    const id = `counts-${label.replace(/\W+/g, '-')}`;
    const r = await send(gw.url + route, body, 'ws-counts-1', id);
    t.equal(r.status, 200, 'the answer is delivered');
    t.ok(await waitFor(() => gw.audit().some((l) => l.request_id === id), 3000), 'an audit line');
    const line = gw.audit().find((l) => l.request_id === id)!;
    t.ok([line.tokens_in, line.tokens_out].every((n) => typeof n === 'number' && n >= 0 && n < 1e9), `counts in the audit line: ${line.tokens_in} in, ${line.tokens_out} out`);
    t.ok(typeof line.cost_usd === 'number' && (line.cost_usd as number) >= 0, `a cost that is a number: ${line.cost_usd}`);
    t.same(uncaught.map((e) => e.message), [], 'no uncaught exception');
    const warned = gw.logs.find((l) => l.request_id === id && l.level === 'warn');
    t.same(warned?.fields, [field], 'a warning names the count');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    t.equal(/^gateway_in_flight_requests (\S+)$/m.exec(metrics)?.[1], '0', 'no request left in flight');
    const next = await send(gw.url + MESSAGES, NORMAL, 'ws-counts-2');
    t.equal(next.status, 200, 'the next request is served');
  });
}
