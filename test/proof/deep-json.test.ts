/**
 * Valid requests holding a value nested 20,000 levels deep (a tool's input, metadata, a
 * tool schema, a member the gateway does not know), through every filter that reads the
 * body: JSON.parse takes any depth, so the gateway must serve them as it serves any other,
 * on the Anthropic route and the unified endpoint, streamed and not, with an audit line
 * each. A reader that recursed over the client's JSON would overflow the stack here (the
 * cache's key did, and the unified endpoint's JSON.stringify of a translated body: 500s).
 */
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { AnthropicMock } from '../mocks/anthropic-mock.js';
import { auditLines, config, post, waitFor } from '../filters/fixtures.js';

const DEPTH = 20_000;
const deep = `${'{"a":'.repeat(DEPTH)}[1,"é"]${'}'.repeat(DEPTH)}`;
/** A JSON text with `"DEEP"` replaced by the deep value (JSON.stringify could not write it). */
const withDeep = (value: unknown): string => JSON.stringify(value).replace('"DEEP"', deep);
const pad = 'padding é '.repeat(300); // past 2 KiB: the body is read by picks

const anthropic: Array<[string, string]> = [
  ['a tool call\'s input', withDeep({ model: 'echo-1', max_tokens: 32, system: pad, messages: [{ role: 'user', content: 'go' }, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Edit', input: 'DEEP' }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }, { type: 'text', text: 'next' }] }] })],
  ['metadata', withDeep({ model: 'echo-1', max_tokens: 32, system: pad, metadata: { user_id: 'u', extra: 'DEEP' }, messages: [{ role: 'user', content: 'hi' }] })],
  ['a tool\'s schema', withDeep({ model: 'echo-1', max_tokens: 32, system: pad, tools: [{ name: 'Edit', input_schema: 'DEEP' }], messages: [{ role: 'user', content: 'hi' }] })],
  ['a member the gateway does not know', withDeep({ model: 'echo-1', max_tokens: 32, system: pad, future_feature: 'DEEP', messages: [{ role: 'user', content: 'hi' }] })],
];
const unified: Array<[string, string]> = [
  // Translated, so written out again: V8's JSON.stringify stops a few thousand levels down.
  ['a tool\'s parameters', withDeep({ model: 'claude-sonnet-4-5', messages: [{ role: 'system', content: pad }, { role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'Edit', parameters: 'DEEP' } }] })],
  ['a member the gateway does not know', withDeep({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: pad }], future_feature: 'DEEP' })],
];

t.test('values nested 20,000 levels deep in valid requests are served by every body-reading filter', async (t) => {
  const anthropicMock = await AnthropicMock.start({ apiKey: 'sk-ant-deep-0000' });
  t.teardown(() => anthropicMock.close());
  const gw = await startGateway(t, config(`  - name: auth
  - name: cost
  - name: rate-limit
  - name: guardrails
    config:
      loop: { repeats: 100, window_seconds: 60 }
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 20, log_content: true }
  - name: cache
  - name: validator
`, `routes:
  - { name: unified, match: { path: /v1/chat/completions }, mode: unified }
`).replace('providers:\n', `providers:\n  anthropic: { api_key: sk-ant-deep-0000, base_url: "${anthropicMock.url}" }\n`));
  const headers = { 'x-workspace-id': 'ws-abc123', 'x-claude-code-session-id': 'deep', 'x-gateway-cache': 'on' };
  let sent = 0;
  for (const stream of [false, true]) {
    for (const [name, body] of anthropic) {
      const r = await post(`${gw.url}/v1/echo/v1/messages`, headers, stream ? body.replace('"max_tokens":32', '"max_tokens":32,"stream":true') : body);
      sent++;
      t.equal(r.status, 200, `Anthropic, ${name}${stream ? ', streamed' : ''}: ${r.status} ${r.status === 200 ? '' : r.text.slice(0, 200)}`);
      t.match(r.text, stream ? /event: message_stop/ : /"type":"message"/, 'an answer');
    }
    for (const [name, body] of unified) {
      const r = await post(`${gw.url}/v1/chat/completions`, headers, stream ? body.replace('"model":"claude-sonnet-4-5"', '"model":"claude-sonnet-4-5","stream":true') : body);
      sent++;
      t.equal(r.status, 200, `unified, ${name}${stream ? ', streamed' : ''}: ${r.status} ${r.status === 200 ? '' : r.text.slice(0, 200)}`);
      t.match(r.text, stream ? /data: \[DONE\]/ : /"object":"chat.completion"/, 'an answer');
    }
  }
  t.equal((await fetch(`${gw.url}/health`)).status, 200, 'still serving');
  const file = path.join(gw.dir, 'audit.log');
  t.ok(await waitFor(() => auditLines(file).length === sent), `${sent} audit lines`);
  t.ok(auditLines(file).every((line) => line.status === 200), 'each audited as served');
});
