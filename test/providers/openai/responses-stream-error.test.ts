/**
 * A Responses API stream (`POST /v1/openai/v1/responses`) that fails after its head gets
 * the Responses API's own `event: error`, which the `openai` SDK raises as an APIError
 * with the gateway's message; a chat completions stream keeps its `data: {"error": …}` line.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import OpenAI, { APIError } from 'openai';
import { startGateway } from '../../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../../helpers/outcome-recorder.js';

const event = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const response = { id: 'resp_1', object: 'response', created_at: 1, status: 'in_progress', model: 'gpt-4o', output: [], usage: null };
const chunk = (content: string): string => `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

/** A few whole events of the stream the path asks for, then a reset. */
const upstream = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    if (req.url === '/v1/responses') {
      res.write(event('response.created', { sequence_number: 0, response }));
      res.write(event('response.output_text.delta', { sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hello' }));
    } else {
      res.write(chunk('Hello'));
    }
    void sleep(50).then(() => res.socket?.destroy()); // let the events reach the gateway first
  });
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
t.teardown(() => {
  upstream.closeAllConnections();
  upstream.close();
});
const gw = await startGateway(t, `
providers:
  openai:
    api_key: sk-openai-gateway-00000000000000
    base_url: http://127.0.0.1:${(upstream.address() as AddressInfo).port}
filters:
  - name: recorder
    plugin: ${OUTCOME_RECORDER_PATH}
`);
const client = new OpenAI({ apiKey: 'sk-client-never-upstream-000000000', baseURL: `${gw.url}/v1/openai/v1`, maxRetries: 0 });

async function raw(path: string, body: unknown): Promise<{ id: string; text: string }> {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { id: res.headers.get('x-request-id')!, text: await res.text() };
}

t.test('a Responses stream ends with the Responses API error event', async (t) => {
  const r = await raw('/v1/openai/v1/responses', { model: 'gpt-4o', input: 'Hello', stream: true });
  const { outcome } = await outcomeFor(r.id);
  t.equal(outcome.error?.code, 'GW_ERR_UPSTREAM_PROTOCOL');
  const events = r.text.split('\n\n').filter(Boolean);
  const last = events.at(-1)!;
  t.match(last, /^event: error\ndata: \{/, 'an `event: error` of its own, not a chat completions data line');
  const data = JSON.parse(last.slice(last.indexOf('data: ') + 6)) as Record<string, unknown>;
  t.equal(data.type, 'error', 'the documented ResponseErrorEvent fields');
  t.equal(data.message, outcome.error!.message);
  t.equal(data.code, 'GW_ERR_UPSTREAM_PROTOCOL');
  t.equal(data.param, null);
  t.match(data.error, { message: outcome.error!.message, type: 'server_error' }, 'the nested error the live API sends, which the SDKs raise');
});

t.test('the openai SDK raises it as an APIError with the message', async (t) => {
  const stream = await client.responses.create({ model: 'gpt-4o', input: 'Hello', stream: true });
  const seen: string[] = [];
  const err = await (async () => {
    try {
      for await (const e of stream) seen.push(e.type);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.same(seen, ['response.created', 'response.output_text.delta'], 'the events before the failure, and no error event taken for one');
  t.ok(err instanceof APIError, `an APIError, not a parse failure (got ${String(err)})`);
  t.match((err as APIError).message, /^Upstream connection failed mid-response/);
});

t.test('a chat completions stream keeps its data line', async (t) => {
  const r = await raw('/v1/openai/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }], stream: true });
  const last = r.text.split('\n\n').filter(Boolean).at(-1)!;
  t.match(last, /^data: \{"error":\{"message":"Upstream connection failed mid-response/);
  t.notMatch(r.text, /event: error/);
});
