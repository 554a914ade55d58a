/**
 * The response head a pass-through client gets: an event stream without the upstream's
 * content-length (the gateway may drop or add events), and the provider's own request id
 * kept beside the gateway's.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { OUTCOME_RECORDER_PATH, outcomeFor } from '../../helpers/outcome-recorder.js';

const SSE = [
  'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}\n\n',
  'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n',
  'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}\n\n',
  'data: [DONE]\n\n',
].join('');

/** An OpenAI-style upstream answering every request with `answer`. */
async function upstream(t: Test, answer: (res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function gatewayBefore(t: Test, url: string) {
  return startGateway(t, `providers:\n  openai: { api_key: sk-gw, base_url: ${url} }\nfilters:\n  - name: recorder\n    plugin: ${OUTCOME_RECORDER_PATH}\n`);
}

/** POST `body`; the status, head and every byte, or the error that cut it. */
function post(url: string, path: string, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string; error?: string }> {
  return new Promise((resolve) => {
    const req = http.request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      let text = '';
      const timer = setTimeout(() => res.destroy(new Error('still waiting for the declared body after 3 s')), 3000);
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (clearTimeout(timer), resolve({ status: res.statusCode!, headers: res.headers, text })));
      res.on('error', (e) => (clearTimeout(timer), resolve({ status: res.statusCode!, headers: res.headers, text, error: String(e) })));
    });
    req.on('error', (e) => resolve({ status: 0, headers: {}, text: '', error: String(e) }));
    req.end(body);
  });
}

t.test('an event stream sent with content-length: the client gets a whole stream, the usage chunk dropped', async (t) => {
  const url = await upstream(t, (res) => {
    // Buffering proxies and some compatible servers send a short stream whole, with its length.
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-length': Buffer.byteLength(SSE) });
    res.end(SSE);
  });
  const gw = await gatewayBefore(t, url);
  const got = await post(gw.url, '/v1/openai/v1/chat/completions', JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
  t.notOk(got.error, `the response completes (${got.error ?? 'whole'})`);
  t.equal(got.headers['content-length'], undefined, "the upstream's length is not the client's");
  t.match(got.text, /data: \[DONE\]\n\n$/, 'to its last event');
  t.notMatch(got.text, /"choices":\[\],"usage"/, 'without the usage chunk the gateway asked for');
  const rec = await outcomeFor(got.headers['x-request-id'] as string);
  t.same([rec.outcome.usage.inputTokens, rec.outcome.usage.outputTokens], [10, 2], 'and counted');
});

t.test("the provider's x-request-id comes as x-upstream-request-id beside the gateway's", async (t) => {
  const url = await upstream(t, (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_upstream_123' });
    res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
  });
  const gw = await gatewayBefore(t, url);
  const got = await post(gw.url, '/v1/openai/v1/chat/completions', JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }));
  t.equal(got.headers['x-upstream-request-id'], 'req_upstream_123', "OpenAI's id, the one its support asks for");
  const rec = await outcomeFor(got.headers['x-request-id'] as string);
  t.equal(rec.outcome.status, 200, "x-request-id is the gateway's, naming the audit line");
});
