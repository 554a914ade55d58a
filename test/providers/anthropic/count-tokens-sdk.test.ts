/**
 * `messages.countTokens` through the gateway with the real SDK: the provider's count
 * comes back as sent, and the call is no generation, so it charges no tokens (its count
 * is not mistaken for usage). Its audit line names the model counted for, as Gemini's
 * `countTokens` and Bedrock's CountTokens lines do (their paths name it).
 */
import Anthropic from '@anthropic-ai/sdk';
import t from 'tap';
import { CLIENT_KEY, GATEWAY_KEY, raw, startAnthropic } from '../../helpers/anthropic.js';
import { outcomeFor } from '../../helpers/outcome-recorder.js';

t.test('countTokens and beta countTokens: the count, no tokens charged', async (t) => {
  const { mock, base } = await startAnthropic(t);
  const client = new Anthropic({ baseURL: base, apiKey: CLIENT_KEY, maxRetries: 0 });
  const params = { model: 'claude-sonnet-4-5', messages: [{ role: 'user' as const, content: 'Hello' }] };
  for (const [name, count] of [
    ['messages', () => client.messages.countTokens(params).withResponse()],
    ['beta.messages', () => client.beta.messages.countTokens({ ...params, betas: ['token-counting-2024-11-01'] }).withResponse()],
  ] as const) {
    const { data, response } = await count();
    t.same(data, { input_tokens: mock.usage.input_tokens }, `${name}: the provider's count`);
    t.match(mock.last!.url, /^\/v1\/messages\/count_tokens(\?beta=true)?$/, `${name}: the count_tokens path`);
    t.equal(mock.last!.headers['x-api-key'], GATEWAY_KEY);
    const rec = await outcomeFor(response.headers.get('x-request-id')!);
    t.equal(rec.kind, 'auxiliary', `${name}: no generation`);
    t.equal(rec.model, 'claude-sonnet-4-5', `${name}: the model counted for is recorded`);
    t.same([rec.outcome.usage?.inputTokens ?? 0, rec.outcome.usage?.outputTokens ?? 0], [0, 0], `${name}: nothing charged`);
  }
});

t.test('a count_tokens body that is no JSON: an Anthropic 400, nothing forwarded', async (t) => {
  const { mock, gw } = await startAnthropic(t);
  const res = await raw(gw.url, 'POST', '/v1/claude/v1/messages/count_tokens', { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' }, '{"model":');
  t.equal(res.status, 400);
  t.match(JSON.parse(res.body.toString()), { type: 'error', error: { type: 'invalid_request_error' } });
  t.equal(mock.requests.length, 0);
  const ok = await raw(gw.url, 'POST', '/v1/claude/v1/messages/count_tokens', { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' }, '{"messages":[]}');
  t.equal(ok.status, 200, 'no model named: forwarded, for the provider to judge');
});
