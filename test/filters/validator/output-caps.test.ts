/**
 * The validator judges every output cap a body holds, not the one the provider's `inspect`
 * read: a body naming a small `max_completion_tokens` beside a huge `max_tokens` must not
 * reach an upstream that reads `max_tokens` (Mistral) with it above the maximum.
 * Nor may a cap that is no token count (past 1e9, a string, a negative) slip past the check.
 */
import t, { type Test } from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { AnthropicMock } from '../../mocks/anthropic-mock.js';
import { OpenAIMock } from '../../mocks/openai-mock.js';

const LIMIT = 4096;

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-a', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function yaml(action: string, providers: string): string {
  return `server: { port: 0 }
providers:
${providers}
filters:
  - name: auth
    config: { source: static }
  - name: validator
    config: { max_tokens: ${LIMIT}, max_tokens_action: ${action} }
workspaces:
  ws-a: { user: alice }
`;
}

async function mistral(t: Test, action: string): Promise<{ mock: OpenAIMock; url: string }> {
  const mock = await OpenAIMock.start({ apiKey: 'k' });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, yaml(action, `  mistral: { type: openai, api_key: k, base_url: "${mock.url}", stream_include_usage: false }`));
  return { mock, url: `${gw.url}/v1/mistral/v1/chat/completions` };
}

const chat = (caps: Record<string, unknown>) => ({ model: 'mistral-large-latest', ...caps, messages: [{ role: 'user', content: 'hi' }] });

t.test('reject: max_tokens above the maximum beside a small max_completion_tokens is refused, naming it', async (t) => {
  const { mock, url } = await mistral(t, 'reject');
  const r = await post(url, chat({ max_completion_tokens: 10, max_tokens: 99_999 }));
  t.equal(r.status, 400);
  t.match(JSON.parse(r.text).error.message, /^max_tokens: 99999 is above the maximum of 4096/);
  t.equal(mock.requests.length, 0, 'nothing forwarded');
  t.equal((await post(url, chat({ max_completion_tokens: 10, max_tokens: LIMIT }))).status, 200, 'both within: forwarded');
});

t.test('clamp: every cap above the maximum is lowered before it is forwarded', async (t) => {
  const { mock, url } = await mistral(t, 'clamp');
  const r = await post(url, chat({ max_completion_tokens: 10, max_tokens: 99_999 }));
  t.equal(r.status, 200);
  t.equal(r.headers.get('x-gateway-max-tokens-clamped'), `99999->${LIMIT}`);
  const sent = mock.lastJson();
  t.equal(sent.max_tokens, LIMIT, 'the cap Mistral reads lowered');
  t.equal(sent.max_completion_tokens, 10, 'the one within kept');
});

// A cap past core's MAX_TOKEN_COUNT (1e9) is no cap to ctx.maxOutputTokens, nor is a
// string or a negative; each is still a cap the upstream reads (a string may be coerced).
const NOT_COUNTS: unknown[] = [2e9, 1e300, '99999', -1];

t.test('reject: a cap that is no token count is refused, nothing forwarded', async (t) => {
  const mock = await AnthropicMock.start({ apiKey: 'k' });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, yaml('reject', `  anthropic: { api_key: k, base_url: "${mock.url}" }`));
  const messages = (max_tokens: number) => ({ model: 'claude-haiku-4-5', max_tokens, messages: [{ role: 'user', content: 'hi' }] });
  for (const cap of [2e9, 1e300]) {
    const r = await post(`${gw.url}/v1/claude/v1/messages`, messages(cap), { 'anthropic-version': '2023-06-01' });
    t.equal(r.status, 400, `Anthropic max_tokens ${cap}`);
    t.match(JSON.parse(r.text).error.message, /^max_tokens: .* is above the maximum of 4096/);
  }
  t.equal(mock.requests.length, 0, 'nothing forwarded to Anthropic');
  const { mock: openai, url } = await mistral(t, 'reject');
  for (const cap of NOT_COUNTS) {
    const r = await post(url, chat({ max_tokens: cap }));
    t.equal(r.status, 400, `max_tokens ${JSON.stringify(cap)}`);
    t.match(JSON.parse(r.text).error.message, /^max_tokens: /);
  }
  t.equal(openai.requests.length, 0, 'nothing forwarded to Mistral');
});

t.test('clamp: a cap that is no token count is set to the maximum', async (t) => {
  const { mock, url } = await mistral(t, 'clamp');
  for (const cap of NOT_COUNTS) {
    const r = await post(url, chat({ max_tokens: cap }));
    t.equal(r.status, 200, `max_tokens ${JSON.stringify(cap)}`);
    t.equal(mock.lastJson().max_tokens, LIMIT, 'forwarded at the maximum');
    t.equal(r.headers.get('x-gateway-max-tokens-clamped'), `${typeof cap === 'number' ? String(cap) : 'string'}->${LIMIT}`);
  }
});
