/**
 * A large body of dense or deeply nested JSON containers, sent by an admitted workspace, is
 * refused before JSON.parse is given it (core/json-density.ts): before, 16 MiB of
 * `[],[],…` held the event loop for seconds, `/health` included. A large prompt of long
 * strings goes through as before.
 */
import t from 'tap';
import path from 'node:path';
import { startGateway } from '../helpers/gateway.js';
import { auditLines, waitFor } from '../filters/fixtures.js';

const MiB = 1024 * 1024;
const HEAD = '{"model":"echo-1","max_tokens":1,"messages":[{"role":"user","content":"hi"}],"pad":';
const dense = `${HEAD}[${'[],'.repeat((16 * MiB) / 3)}[]]}`;
const nested = `${HEAD}${'['.repeat(8 * MiB)}${']'.repeat(8 * MiB)}}`;
const prompt = JSON.stringify({ model: 'echo-1', max_tokens: 1, messages: [{ role: 'user', content: 'All work and no play. '.repeat((16 * MiB) / 22) }] });

// The OpenAI and Anthropic providers' upstream is a closed port: a refusal must come before any call to it.
const gw = await startGateway(
  t,
  `providers:
  echo: { models: [echo-1] }
  openai: { api_key: sk-test, base_url: "http://127.0.0.1:9" }
  anthropic: { api_key: sk-ant-test, base_url: "http://127.0.0.1:9" }
filters:
  - name: auth
  - name: audit
    config: { stdout: false, file: audit.jsonl, flush_interval_ms: 20 }
  - name: validator
    config: { max_tokens: 64000 }
workspaces:
  ws-abc123: { user: contractor1, project: webide }
`,
);
const workspace = { 'content-type': 'application/json', 'x-workspace-id': 'ws-abc123' };

/** POST `body` while `/health` is asked every 25 ms: the answer, its time, and the slowest health answer meanwhile. */
async function judged(url: string, body: string): Promise<{ status: number; json: Record<string, unknown>; ms: number; slowestHealthMs: number }> {
  let done = false;
  let slowestHealthMs = 0;
  const polling = (async () => {
    while (!done) {
      const asked = performance.now();
      await (await fetch(`${gw.url}/health`)).arrayBuffer();
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - asked);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const start = performance.now();
  const res = await fetch(url, { method: 'POST', headers: workspace, body });
  const json = (await res.json()) as Record<string, unknown>;
  const ms = performance.now() - start;
  done = true;
  await polling;
  return { status: res.status, json, ms, slowestHealthMs };
}

const audited = async (requestCount: number): Promise<Array<Record<string, unknown>>> => {
  const file = path.join(gw.dir, 'audit.jsonl');
  await waitFor(() => auditLines(file).length >= requestCount);
  return auditLines(file);
};

t.test('16 MiB of empty arrays: a quick 400 in the route dialect, audited, /health answering meanwhile', async (t) => {
  const r = await judged(`${gw.url}/v1/echo/v1/messages`, dense);
  t.equal(r.status, 400);
  const error = r.json.error as { type: string; message: string };
  t.equal(error.type, 'invalid_request_error', 'Anthropic error shape');
  t.match(error.message, /more than \d+ JSON objects and arrays/);
  t.ok(r.ms < 2000, `refused in ${r.ms.toFixed(0)} ms`);
  t.ok(r.slowestHealthMs < 1000, `/health answered within ${r.slowestHealthMs.toFixed(0)} ms while the body was judged`);
  const line = (await audited(1)).at(-1)!;
  t.equal(line.status, 400);
  t.equal(line.error, 'GW_ERR_REQUEST_JSON_TOO_COMPLEX');
  t.equal(line.workspace, 'ws-abc123');
});

t.test('16 MiB nested 8 Mi deep: refused as quickly', async (t) => {
  const r = await judged(`${gw.url}/v1/echo/v1/messages`, nested);
  t.equal(r.status, 400);
  t.match((r.json.error as { message: string }).message, /nests JSON objects and arrays more than 1000 deep/);
  t.ok(r.ms < 2000, `refused in ${r.ms.toFixed(0)} ms`);
  t.ok(r.slowestHealthMs < 1000, `/health answered within ${r.slowestHealthMs.toFixed(0)} ms`);
});

t.test('the OpenAI dialect gets its own error shape', async (t) => {
  const r = await judged(`${gw.url}/v1/openai/v1/chat/completions`, dense.replace('echo-1', 'gpt-4o'));
  t.equal(r.status, 400);
  t.match(r.json.error, { type: 'invalid_request_error', message: /JSON objects and arrays/ });
  t.ok(r.ms < 2000, `refused in ${r.ms.toFixed(0)} ms`);
});

t.test('JSON held in a string (a tool call\'s arguments) is counted before the translator parses it', async (t) => {
  const args = `[${'[],'.repeat((16 * MiB) / 3)}[]]`;
  const body = JSON.stringify({
    model: 'claude-sonnet-4-5',
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: args } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'done' },
    ],
  });
  const r = await judged(`${gw.url}/v1/chat/completions`, body);
  t.equal(r.status, 400);
  t.match(r.json.error, { type: 'invalid_request_error', message: /more than \d+ JSON objects and arrays/ });
  t.ok(r.ms < 2000, `refused in ${r.ms.toFixed(0)} ms`);
});

t.test('many tool calls, each too small to be counted alone, share one budget', async (t) => {
  // 128 calls of ~96 KiB of `[],[],…` each: 4.2 M containers in all, none of them in a string of 256 KiB.
  const args = `{"a":[${'[],'.repeat((96 * 1024) / 3)}[]]}`;
  const calls = Array.from({ length: 128 }, (_, i) => ({ id: `c${i}`, type: 'function', function: { name: 'f', arguments: args } }));
  const body = JSON.stringify({
    model: 'claude-sonnet-4-5',
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: null, tool_calls: calls },
      ...calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: 'done' })),
    ],
  });
  const r = await judged(`${gw.url}/v1/chat/completions`, body);
  t.equal(r.status, 400);
  t.match(r.json.error, { type: 'invalid_request_error', message: /more than \d+ JSON objects and arrays/ });
  t.ok(r.ms < 2000, `refused in ${r.ms.toFixed(0)} ms`);
});

t.test('a 16 MiB prompt of text still goes through', async (t) => {
  const r = await judged(`${gw.url}/v1/echo/v1/messages`, prompt);
  t.equal(r.status, 200);
  t.equal(r.json.type, 'message');
});
