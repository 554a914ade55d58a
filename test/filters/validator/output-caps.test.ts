/**
 * The validator judges every output cap a body holds, not the one the provider's `inspect`
 * read: a body naming a small `max_completion_tokens` beside a huge `max_tokens` must not
 * reach an upstream that reads `max_tokens` (Mistral) with it above the maximum.
 */
import t, { type Test } from 'tap';
import { startGateway } from '../../helpers/gateway.js';
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
