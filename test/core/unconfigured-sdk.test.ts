/**
 * A provider without credentials answers 503 with `x-should-retry: false`: no retry can
 * supply a key, so the real Anthropic and OpenAI SDKs raise their 503 class after one
 * request instead of retrying it (twice, by default) — on a pass-through route and on the
 * unified endpoint.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { type APIError } from 'openai';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';

const gw = await startGateway(t, `
providers:
  anthropic:
    api_key: ""
    base_url: http://127.0.0.1:1
`);

/** Each answer's status and `x-should-retry`, as the SDK got them. */
function recordingFetch(seen: Array<[number, string | null]>): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    seen.push([res.status, res.headers.get('x-should-retry')]);
    return res;
  };
}

t.test('Anthropic SDK on /v1/claude: one 503, not retried', async (t) => {
  const seen: Array<[number, string | null]> = [];
  const client = new Anthropic({ baseURL: `${gw.url}/v1/claude`, apiKey: 'unused', fetch: recordingFetch(seen) });
  const err = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
  t.ok(err instanceof Anthropic.InternalServerError, 'the 5xx class');
  t.equal((err as InstanceType<typeof Anthropic.APIError>).status, 503);
  t.same(seen, [[503, 'false']], 'one request');
});

t.test('OpenAI SDK on /v1/chat/completions: one 503, not retried', async (t) => {
  const seen: Array<[number, string | null]> = [];
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', fetch: recordingFetch(seen) });
  const err = await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.InternalServerError, 'the 5xx class');
  t.equal((err as APIError).code, 'GW_ERR_PROVIDER_UNCONFIGURED');
  t.same(seen, [[503, 'false']], 'one request');
});
