/**
 * The real SDK's `messages.batches.results(id)` retrieves the batch, then GETs its
 * `results_url`. Anthropic writes that URL absolute, on its own origin: passed through as
 * is, the SDK would leave the gateway and carry the client's gateway key to the provider.
 * Through the gateway the URL leads back through the gateway, relative to the client's base.
 */
import Anthropic from '@anthropic-ai/sdk';
import t from 'tap';
import { CLIENT_KEY, GATEWAY_KEY, raw, startAnthropic } from '../../helpers/anthropic.js';

t.test('batches.results(): the results come through the gateway, with the gateway key', async (t) => {
  const { mock, base, gw } = await startAnthropic(t);
  const client = new Anthropic({ baseURL: base, apiKey: CLIENT_KEY, maxRetries: 0 });
  for (const [name, results] of [
    ['messages.batches', () => client.messages.batches.results('msgbatch_mock01')],
    ['beta.messages.batches', () => client.beta.messages.batches.results('msgbatch_mock01')],
  ] as const) {
    const before = mock.requests.length;
    const lines = [];
    for await (const line of await results()) lines.push(line);
    t.equal(lines.length, 1, `${name}: one result line`);
    t.match(lines[0], { custom_id: 'r0', result: { type: 'succeeded', message: { content: [{ text: mock.text }] } } }, `${name}: the result`);
    const seen = mock.requests.slice(before);
    t.equal(seen.length, 2, `${name}: retrieve and results both reached the provider`);
    t.match(seen[1].url, /^\/v1\/messages\/batches\/msgbatch_mock01\/results/, `${name}: the results path`);
    t.ok(seen.every((r) => r.headers['x-api-key'] === GATEWAY_KEY), `${name}: each with the gateway's key, none with the client's`);
  }

  const got = await raw(gw.url, 'GET', '/v1/claude/v1/messages/batches', { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' });
  const listed = JSON.parse(got.body.toString()) as { data: Array<{ results_url: string; id: string }> };
  t.equal(listed.data[0].results_url, '/v1/messages/batches/msgbatch_mock01/results', 'a listed batch: its results_url relative to the base URL');
  t.equal(got.headers['content-length'], String(got.body.length), 'content-length matches the rewritten body');
  t.notOk(got.body.includes(mock.url), "the provider's origin is not shown");
});
