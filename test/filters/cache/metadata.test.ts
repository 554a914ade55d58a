/**
 * A request's `metadata` is left out of the key only where the answer does not echo it
 * (the dialect says so: Anthropic Messages). An OpenAI Responses answer carries the
 * request's `metadata`, so there it is part of the key. Before, it was left out everywhere:
 * in `shared` scope one user's metadata (ids, labels, whatever a client tags a request
 * with) was replayed to the next user who asked the same question.
 */
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { ScriptedUpstream, json } from '../../proof/support/upstream.js';

t.test("shared scope, OpenAI Responses: one user's metadata is not replayed to another", async (t) => {
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  // A Responses answer echoes the request's metadata, as OpenAI's does.
  for (let i = 0; i < 4; i++) {
    up.script.push((_q, res, body) => {
      const sent = JSON.parse(body.toString('utf8')) as { metadata?: unknown };
      json(res, 200, { id: `resp_${i}`, object: 'response', status: 'completed', model: 'gpt-4o', metadata: sent.metadata ?? {}, output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: '4' }] }], usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 } });
    });
  }
  const gw = await startGateway(t, `providers:
  openai: { api_key: sk-a, base_url: ${up.url} }
filters:
  - name: auth
  - name: cache
    config: { scope: shared }
workspaces:
  ws-1: { user: alice }
  ws-2: { user: bob }
`);
  const send = async (workspace: string, metadata: Record<string, string>) => {
    const res = await fetch(`${gw.url}/v1/openai/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': workspace }, body: JSON.stringify({ model: 'gpt-4o', temperature: 0, input: 'What is 2+2?', metadata }) });
    return { cache: res.headers.get('x-cache'), text: await res.text() };
  };
  t.equal((await send('ws-1', { customer: 'alice-secret' })).cache, 'MISS');
  const bob = await send('ws-2', { customer: 'bob' });
  t.equal(bob.cache, 'MISS', 'other metadata, another entry');
  t.notMatch(bob.text, /alice-secret/, "alice's metadata is not in bob's answer");
  const again = await send('ws-2', { customer: 'bob' });
  t.equal(again.cache, 'HIT', 'the same metadata hits');
  t.equal(up.seen.length, 2);
});
