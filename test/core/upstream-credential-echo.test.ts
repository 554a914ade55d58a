/**
 * An upstream whose error answer quotes the request it got (a debugging proxy, an echo
 * service behind a wrong base_url, AWS's signature-mismatch error listing the signed
 * headers) must not hand the gateway's provider credential to the client: not in the body,
 * split across chunks or not, not in a header, on every provider and on the unified endpoint.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';

const ANTHROPIC_KEY = 'sk-ant-gateway-secret-0000000000';
const OPENAI_KEY = 'sk-openai-gateway-secret-1111111111';
const GOOGLE_KEY = 'AIzaGatewaySecret2222222222222222';
const AWS_KEY_ID = 'AKIAGATEWAYSECRET333';
const AWS_SESSION = 'FwoGZXIvYXdzEJr//////////wEaDGatewaySessionToken/44+44==';
const SECRETS = [ANTHROPIC_KEY, OPENAI_KEY, GOOGLE_KEY, AWS_KEY_ID, AWS_SESSION];

/** Answers every request with `status` and a JSON body quoting its request head, written in 7-byte pieces. */
async function echoUpstream(t: { teardown(fn: () => unknown): void }, status: number): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const quoted = Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n');
      const body = Buffer.from(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `You sent:\n${quoted}` } }));
      res.writeHead(status, { 'content-type': 'application/json', 'x-echo-auth': String(req.headers['x-api-key'] ?? req.headers.authorization ?? req.headers['x-goog-api-key']) });
      for (let i = 0; i < body.length; i += 7) res.write(body.subarray(i, i + 7));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function config(upstream: string): string {
  return `providers:
  anthropic: { api_key: ${ANTHROPIC_KEY}, base_url: "${upstream}" }
  openai: { api_key: ${OPENAI_KEY}, base_url: "${upstream}" }
  gemini: { api_key: ${GOOGLE_KEY}, base_url: "${upstream}" }
  bedrock: { credentials: static, access_key_id: ${AWS_KEY_ID}, secret_access_key: gateway-aws-secret-key-4444, session_token: "${AWS_SESSION}", base_url: "${upstream}" }
`;
}

const REQUESTS: Array<[string, string, string]> = [
  ['anthropic', '/v1/claude/v1/messages', JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })],
  ['openai', '/v1/openai/v1/chat/completions', JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })],
  ['gemini', '/v1/gemini/v1beta/models/gemini-2.0-flash:generateContent', JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] })],
  ['bedrock', '/v1/bedrock/model/anthropic.claude-3-haiku-20240307-v1:0/invoke', JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })],
  ['unified (anthropic)', '/v1/chat/completions', JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] })],
  ['unified (gemini)', '/v1/chat/completions', JSON.stringify({ model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'hi' }] })],
];

t.test('an error answer quoting the request never carries the gateway credential to the client', async (t) => {
  const upstream = await echoUpstream(t, 400);
  const gw = await startGateway(t, config(upstream));
  for (const [name, path, body] of REQUESTS) {
    const res = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1' }, body });
    const text = await res.text();
    t.equal(res.status, 400, `${name}: the upstream's status`);
    for (const secret of SECRETS) {
      t.notOk(text.includes(secret), `${name}: body without ${secret.slice(0, 8)}…`);
      t.notOk(String(res.headers.get('x-echo-auth')).includes(secret), `${name}: header without ${secret.slice(0, 8)}…`);
    }
    if (!name.startsWith('unified')) {
      t.match(text, /\[REDACTED\]/, `${name}: the credential's place is marked`);
      t.doesNotThrow(() => JSON.parse(text), `${name}: still JSON`);
      t.equal(Number(res.headers.get('content-length') ?? text.length), Buffer.byteLength(text), `${name}: its length is the cleaned body's`);
    }
  }
});

t.test('a successful answer passes untouched', async (t) => {
  const upstream = await echoUpstream(t, 200);
  const gw = await startGateway(t, config(upstream));
  const res = await fetch(gw.url + '/v1/claude/v1/models', { headers: { 'x-workspace-id': 'ws-1' } });
  t.equal(res.status, 200);
  t.match(await res.text(), ANTHROPIC_KEY, 'a 2xx body is streamed byte for byte, never read here');
});
