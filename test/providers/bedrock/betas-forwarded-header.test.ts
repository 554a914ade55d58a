/**
 * `anthropic_betas` with `anthropic-beta` in `forward_headers`: the unified endpoint's
 * Converse call and the Runtime's count_tokens (CountTokens) build their headers from that
 * list, and sent the header unfiltered. It is shortened to the model's list as on the
 * pass-through paths.
 */
import t from 'tap';
import { call } from '../../helpers/http.js';
import { SONNET, WORKSPACE, startBedrock } from '../../helpers/bedrock.js';

const ALLOWED = 'interleaved-thinking-2025-05-14';
const PROVIDER_YAML = `    forward_headers: [anthropic-beta]
    anthropic_betas:
      allow: [${ALLOWED}]`;

function post(url: string, body: unknown, beta: string) {
  return call(url, { headers: { 'x-workspace-id': WORKSPACE, 'anthropic-beta': beta }, body: JSON.stringify(body) });
}

t.test('the unified endpoint: a forwarded anthropic-beta keeps only the allowed betas, or goes', async (t) => {
  const { mock, gw } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  for (const stream of [false, true]) {
    const chat = { model: SONNET, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 64, stream };
    const res = await post(`${gw.url}/v1/chat/completions`, chat, `claude-code-20250219, ${ALLOWED}`);
    t.equal(res.status, 200, res.text);
    t.match(mock.last!.url, stream ? /\/converse-stream$/ : /\/converse$/);
    t.equal(mock.last!.headers['anthropic-beta'], ALLOWED, `stream ${stream}: shortened`);
    await post(`${gw.url}/v1/chat/completions`, chat, 'claude-code-20250219');
    t.notOk('anthropic-beta' in mock.last!.headers, `stream ${stream}: nothing allowed, no header`);
  }
});

t.test('count_tokens on the Runtime: a forwarded anthropic-beta is shortened too', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { providerYaml: PROVIDER_YAML });
  const res = await post(`${endpoint}/anthropic/v1/messages/count_tokens`, { model: 'global.anthropic.claude-opus-4-6-v1', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] }, `claude-code-20250219,${ALLOWED}`);
  t.equal(res.status, 200, res.text);
  t.equal(mock.last!.headers['anthropic-beta'], ALLOWED);
});
