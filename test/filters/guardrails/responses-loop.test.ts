/**
 * The loop breaker on OpenAI's other tool-call shapes: the Responses API (`input` items of
 * type `function_call`, Codex CLI's dialect) and legacy chat `function_call` turns, through
 * the openai provider to a local mock upstream.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';

/** An OpenAI upstream that answers every Responses or chat request with a short reply. */
async function openaiMock(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.includes('/responses')
        ? JSON.stringify({ id: 'resp_1', object: 'response', model: 'gpt-4o', output: [], usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 } })
        : JSON.stringify({ id: 'c', object: 'chat.completion', model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

async function statuses(url: string, session: string, body: unknown, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-abc123', 'x-claude-code-session-id': session }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
}

t.test('Responses API and legacy function_call turns: the same call more than `repeats` times is refused', async (t) => {
  const upstream = await openaiMock(t);
  const gw = await startGateway(t, `providers:
  openai: { api_key: sk-test, base_url: "${upstream}", models: [gpt-4o] }
filters:
  - name: auth
  - name: cost
  - name: guardrails
    config:
      loop: { repeats: 2, window_seconds: 60 }
workspaces:
  ws-abc123: { user: contractor1, project: webide }
`);
  const chatUrl = `${gw.url}/v1/openai/v1/chat/completions`;
  const chat = { model: 'gpt-4o', messages: [{ role: 'user', content: 'fix' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'shell', arguments: '{"cmd":"npm test"}' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'FAIL' }] };
  t.same(await statuses(chatUrl, 'chat', chat, 4), [200, 200, 403, 403], 'chat tool_calls (the control)');

  const responses = (id: string) => ({ model: 'gpt-4o', input: [{ role: 'user', content: 'fix the test' }, { type: 'reasoning', id: 'rs_1', summary: [] }, { type: 'function_call', id: `fc_${id}`, call_id: id, name: 'shell', arguments: '{"cmd":"npm test"}' }, { type: 'function_call_output', call_id: id, output: 'FAIL' }] });
  t.same(await statuses(`${gw.url}/v1/openai/v1/responses`, 'responses', responses('c1'), 4), [200, 200, 403, 403], 'Responses API function_call items');

  const legacy = { model: 'gpt-4o', functions: [{ name: 'shell', parameters: { type: 'object' } }], messages: [{ role: 'user', content: 'fix' }, { role: 'assistant', content: null, function_call: { name: 'shell', arguments: '{"cmd":"npm test"}' } }, { role: 'function', name: 'shell', content: 'FAIL' }] };
  t.same(await statuses(chatUrl, 'legacy', legacy, 4), [200, 200, 403, 403], 'legacy chat function_call turns');

  const varied = [];
  for (let i = 0; i < 4; i++) varied.push(...(await statuses(`${gw.url}/v1/openai/v1/responses`, 'varied', { ...responses(`c${i}`), input: [{ type: 'function_call', call_id: `c${i}`, name: 'shell', arguments: `{"cmd":"step ${i}"}` }, { type: 'function_call_output', call_id: `c${i}`, output: 'ok' }] }, 1)));
  t.same(varied, [200, 200, 200, 200], 'different Responses calls are progress');
});
