/**
 * Per-provider validator limits on the unified endpoint: `/v1/chat/completions` names no
 * provider in its route, so the limits must follow the provider the model chose
 * (`ctx.provider`), or a provider's allowlist and cap are bypassed by changing the URL.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { OpenAIMock } from '../../mocks/openai-mock.js';

async function post(url: string, body: unknown): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-a' }, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

t.test('a provider\'s allowlist and max_tokens hold on /v1/chat/completions as on its own route', async (t) => {
  const mock = await OpenAIMock.start({ apiKey: 'k' });
  t.teardown(() => mock.close());
  const gw = await startGateway(t, `server: { port: 0 }
providers:
  mistral: { type: openai, api_key: k, base_url: "${mock.url}", stream_include_usage: false, models: [mistral-large-latest, mistral-small-latest] }
filters:
  - name: auth
    config: { source: static }
  - name: validator
    config:
      providers:
        mistral: { models: ["mistral-small-*"], max_tokens: 100 }
workspaces:
  ws-a: { user: alice }
`);
  const say = (model: string, max_tokens: number) => ({ model, max_tokens, messages: [{ role: 'user', content: 'hi' }] });
  for (const path of ['/v1/mistral/v1/chat/completions', '/v1/chat/completions']) {
    const before = mock.requests.length;
    t.equal(await post(gw.url + path, say('mistral-large-latest', 10)), 403, `${path}: a model outside the provider's allowlist is refused`);
    t.equal(await post(gw.url + path, say('mistral-small-latest', 101)), 400, `${path}: a cap above the provider's max_tokens is refused`);
    t.equal(mock.requests.length, before, `${path}: nothing reached the provider`);
    t.equal(await post(gw.url + path, say('mistral-small-latest', 100)), 200, `${path}: within the provider's limits passes`);
  }
});
