/**
 * A workspace key sent as `?key=` (the auth filter takes one there on every route, as
 * Gemini clients send theirs) never reaches a provider: every pass-through drops the `key`
 * parameter, encoded or not, and forwards the rest of the query byte for byte. Before,
 * only Gemini's did; Anthropic's, OpenAI's and Bedrock's (where it was also signed) sent
 * the client's credential upstream.
 */
import t from 'tap';
import { request } from 'undici';
import { startProof, WORKSPACE_KEY } from './support/harness.js';

const BEDROCK_MODEL = 'anthropic.claude-3-haiku-20240307-v1%3A0';

t.test('a ?key= workspace key is not forwarded upstream, the rest of the query is', async (t) => {
  const proof = await startProof(t);
  const cases: Array<[string, string, unknown]> = [
    ['Anthropic', '/v1/claude/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }],
    ['OpenAI', '/v1/openai/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }],
    ['Bedrock', `/v1/bedrock/model/${BEDROCK_MODEL}/invoke`, { anthropic_version: 'bedrock-2023-05-31', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }],
  ];
  for (const [name, path, body] of cases) {
    for (const [query, upstreamQuery] of [
      [`key=${WORKSPACE_KEY}`, ''],
      [`beta=true&key=${WORKSPACE_KEY}`, '?beta=true'],
      [`%6Bey=${WORKSPACE_KEY}&key=${WORKSPACE_KEY}&x=a%20b`, '?x=a%20b'],
    ]) {
      const before = proof.upstream.seen.length;
      const res = await request(`${proof.url}${path}?${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.body.text();
      t.equal(res.statusCode, 200, `${name}, ?${query.slice(0, 14)}…: admitted by the query key (${text.slice(0, 120)})`);
      const seen = proof.upstream.seen.slice(before);
      t.equal(seen.length, 1, `${name}: one upstream request`);
      t.notOk(seen[0]?.url.includes(WORKSPACE_KEY), `${name}: the key is not in ${seen[0]?.url}`);
      t.ok(seen[0]?.url.endsWith(`${path.replace('/v1/claude', '').replace('/v1/openai', '').replace('/v1/bedrock', '')}${upstreamQuery}`), `${name}: the rest of the query kept (${seen[0]?.url})`);
    }
  }
});
