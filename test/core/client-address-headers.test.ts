/**
 * What a client or a proxy in front says about where the client is (`X-Forwarded-For`,
 * `-Host`, `-Proto`, `-Port`, `Forwarded`, `X-Real-IP`) names workspace-internal addresses
 * and hosts: the gateway may read it, but it never reaches a provider, and a provider's
 * `forward_headers` cannot opt it in.
 */
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { AnthropicMock } from '../mocks/anthropic-mock.js';
import { OpenAIMock } from '../mocks/openai-mock.js';

const KEY = 'sk-ant-gateway-client-address-00';
const OPENAI_KEY = 'sk-openai-client-address-000000';
const ADDRESSING = {
  'x-forwarded-for': '10.20.1.2, 10.0.0.5',
  'x-forwarded-host': 'ws-42.coder.internal',
  'x-forwarded-proto': 'http',
  'x-forwarded-port': '8090',
  forwarded: 'for=10.20.1.2;host=ws-42.coder.internal;proto=http',
  'x-real-ip': '10.20.1.2',
};

t.test('client-address headers reach no provider; other headers still do', async (t) => {
  const anthropic = await AnthropicMock.start({ apiKey: KEY });
  const openai = await OpenAIMock.start({ apiKey: OPENAI_KEY });
  t.teardown(() => Promise.all([anthropic.close(), openai.close()]));
  const gw = await startGateway(t, JSON.stringify({ providers: { anthropic: { api_key: KEY, base_url: anthropic.url }, openai: { api_key: OPENAI_KEY, base_url: openai.url } } }));

  const claude = await fetch(`${gw.url}/v1/claude/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-beta': 'tools-2024-04-04', ...ADDRESSING },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  t.equal(claude.status, 200);
  await claude.text();
  const chat = await fetch(`${gw.url}/v1/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'openai-beta': 'assistants=v2', ...ADDRESSING },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
  t.equal(chat.status, 200);
  await chat.text();

  for (const [name, seen] of [['anthropic', anthropic.last?.headers], ['openai', openai.last?.headers]] as const) {
    t.ok(seen, `${name} got the request`);
    for (const header of Object.keys(ADDRESSING)) t.equal(seen?.[header], undefined, `${name}: no ${header}`);
  }
  t.equal(anthropic.last?.headers['anthropic-beta'], 'tools-2024-04-04', 'a header the provider needs still passes');
  t.equal(openai.last?.headers['openai-beta'], 'assistants=v2');
});

t.test('forward_headers cannot opt a client-address header in', async (t) => {
  for (const provider of ['anthropic', 'bedrock']) {
    const config = JSON.stringify({ providers: { [provider]: { forward_headers: ['X-Forwarded-For'] } } });
    await t.rejects(startGateway(t, config), /X-Forwarded-For|x-forwarded-for/i, provider);
  }
});
