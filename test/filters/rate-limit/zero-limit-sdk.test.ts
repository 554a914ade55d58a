/**
 * A limit of 0 refuses every request, so its 429 says `x-should-retry: false`: the real
 * Anthropic and OpenAI SDKs then raise RateLimitError at once instead of waiting out
 * `retry-after` to be refused again (twice, by default, a minute each).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { AnthropicMock } from '../../mocks/anthropic-mock.js';
import { OpenAIMock } from '../../mocks/openai-mock.js';

const anthropic = await AnthropicMock.start({ apiKey: 'sk-ant-gateway' });
const openai = await OpenAIMock.start({ apiKey: 'sk-openai-gateway' });
t.teardown(() => Promise.all([anthropic.close(), openai.close()]));
const gw = await startGateway(t, `
providers:
  anthropic: { api_key: sk-ant-gateway, base_url: ${anthropic.url} }
  openai: { api_key: sk-openai-gateway, base_url: ${openai.url} }
filters:
  - name: auth
  - name: rate-limit
workspaces:
  ws-no-requests: { user: norequests, project: p }
  ws-no-tokens: { user: notokens, project: p }
  ws-busy: { user: busy, project: p }
rate_limits:
  default: { requests_per_minute: 100 }
  users:
    norequests: { requests_per_minute: 0 }
    notokens: { tokens_per_minute: 0 }
    busy: { requests_per_minute: 1 }
`);

/** Each answer the SDK got: status and `x-should-retry`. */
function recordingFetch(seen: Array<[number, string | null]>): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    seen.push([res.status, res.headers.get('x-should-retry')]);
    return res;
  };
}

// Long enough for the SDK's first answer, far shorter than the minute it would wait to retry.
const patience = () => AbortSignal.timeout(5000);

for (const [workspace, dimension] of [['ws-no-requests', 'requests'], ['ws-no-tokens', 'tokens']] as const) {
  t.test(`${dimension}_per_minute 0: one request, no retry, a message that says why`, async (t) => {
    const seen: Array<[number, string | null]> = [];
    const claude = new Anthropic({ baseURL: `${gw.url}/v1/claude`, apiKey: 'unused', defaultHeaders: { 'x-workspace-id': workspace }, fetch: recordingFetch(seen) });
    const err = await claude.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }, { signal: patience() }).catch((e: unknown) => e);
    t.ok(err instanceof Anthropic.RateLimitError, `Anthropic: RateLimitError (got ${(err as Error).constructor.name})`);
    t.same(seen, [[429, 'false']], 'Anthropic: one 429 that says not to retry');
    t.match((err as Error).message, new RegExp(`${dimension} per minute limit of 0`));

    seen.length = 0;
    const gpt = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', defaultHeaders: { 'x-workspace-id': workspace }, fetch: recordingFetch(seen) });
    const oerr = await gpt.chat.completions.create({ model: 'gpt-4o', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }, { signal: patience() }).catch((e: unknown) => e);
    t.ok(oerr instanceof OpenAI.RateLimitError, `OpenAI: RateLimitError (got ${(oerr as Error).constructor.name})`);
    t.same(seen, [[429, 'false']], 'OpenAI: one 429 that says not to retry');
  });
}

t.test('a spent limit above 0 stays retryable', async (t) => {
  const seen: Array<[number, string | null]> = [];
  const claude = new Anthropic({ baseURL: `${gw.url}/v1/claude`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'x-workspace-id': 'ws-busy' }, fetch: recordingFetch(seen) });
  await claude.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
  const err = await claude.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
  t.ok(err instanceof Anthropic.RateLimitError);
  t.same(seen, [[200, null], [429, null]], 'no x-should-retry on a limit that refills');
  t.match((err as Error).message, /retry in \d+s/);
});
