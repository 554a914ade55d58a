/**
 * Requests that name upstream state which changes between calls are never answered from
 * the cache: the same body sent twice to an OpenAI Responses `conversation` is two turns,
 * and the second must reach the conversation. Those naming fixed state (a
 * `previous_response_id`, a version-pinned prompt) still are. A scripted upstream numbers
 * the answers it gives.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import t from 'tap';
import { dependsOnMutableState } from '../../../filters/cache/stateful.js';
import { startGateway } from '../../helpers/gateway.js';
import { normal, ScriptedUpstream } from '../../proof/support/upstream.js';

t.test('dependsOnMutableState: what names state that moves, and what does not', async (t) => {
  const mutable: Array<[string, Record<string, unknown>]> = [
    ['a conversation id', { conversation: 'conv_1' }],
    ['a conversation object', { conversation: { id: 'conv_1' } }],
    ['a background response', { background: true }],
    ['a stored prompt at its latest version', { prompt: { id: 'pmpt_1', variables: { x: '1' } } }],
    ['an Anthropic container id', { container: 'container_1' }],
    ['an Anthropic container with skills', { container: { skills: [{ type: 'anthropic', skill_id: 'pptx' }] } }],
    ['a code interpreter in a named container', { tools: [{ type: 'function', name: 'f' }, { type: 'code_interpreter', container: 'cntr_1' }] }],
  ];
  for (const [what, body] of mutable) t.ok(dependsOnMutableState({ model: 'm', input: 'hi', ...body }), what);
  const fixed: Array<[string, Record<string, unknown>]> = [
    ['a plain request', {}],
    ['a previous response', { previous_response_id: 'resp_1' }],
    ['a pinned prompt', { prompt: { id: 'pmpt_1', version: '2' } }],
    ['a completions prompt (the text)', { prompt: 'Say hi' }],
    ['a completions prompt (an array)', { prompt: ['Say hi'] }],
    ['stored, not in the background', { store: true, background: false }],
    ['a code interpreter in a new container', { tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] }],
    ['a null conversation', { conversation: null }],
  ];
  for (const [what, body] of fixed) t.notOk(dependsOnMutableState({ model: 'm', input: 'hi', ...body }), what);
});

/** A Responses answer numbered by the upstream's count of calls; Messages get the normal answer. */
function numbered(up: ScriptedUpstream): (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void> {
  return (req, res, body) => {
    if (!(req.url ?? '').startsWith('/v1/responses')) return normal(req, res, body);
    const n = up.seen.length;
    const text = JSON.stringify({ id: `resp_${n}`, object: 'response', status: 'completed', model: 'gpt-4o', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `step ${n}` }] }], usage: { input_tokens: 10, output_tokens: 3, total_tokens: 13 } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
}

async function start(t: { teardown(fn: () => unknown): void }): Promise<{ up: ScriptedUpstream; send(path: string, body: Record<string, unknown>, headers?: Record<string, string>): Promise<{ cache: string | null; text: string }> }> {
  const up = await ScriptedUpstream.start();
  t.teardown(() => up.close());
  for (let i = 0; i < 20; i++) up.script.push(numbered(up));
  const gw = await startGateway(t, `providers:\n  openai: { api_key: sk-a, base_url: ${up.url} }\n  anthropic: { api_key: sk-ant-a, base_url: ${up.url} }\nfilters:\n  - name: auth\n  - name: cache\nworkspaces:\n  ws-1: { user: alice }\n`);
  const send = async (path: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-workspace-id': 'ws-1', ...headers }, body: JSON.stringify(body) });
    return { cache: res.headers.get('x-cache'), text: await res.text() };
  };
  return { up, send };
}

const RESPONSES = '/v1/openai/v1/responses';

t.test('a Responses turn on a conversation reaches the upstream every time, opted in or not', async (t) => {
  const { up, send } = await start(t);
  const turn = { model: 'gpt-4o', temperature: 0, conversation: 'conv_1', input: 'continue' };
  t.match((await send(RESPONSES, turn)).text, /step 1/);
  const second = await send(RESPONSES, turn);
  t.match(second.text, /step 2/, 'the conversation as it now is');
  t.equal(second.cache, null, 'not a cacheable request');
  t.match((await send(RESPONSES, turn, { 'x-gateway-cache': 'on' })).text, /step 3/, 'the opt-in header does not make it one');
  t.match((await send(RESPONSES, { ...turn, conversation: { id: 'conv_1' } })).text, /step 4/, 'nor the object form');
  t.equal(up.seen.length, 4);
});

t.test('background Responses, latest-version prompts and Anthropic containers are not cached', async (t) => {
  const { up, send } = await start(t);
  const base = { model: 'gpt-4o', temperature: 0, input: 'hi' };
  for (const body of [{ ...base, background: true }, { ...base, prompt: { id: 'pmpt_1' } }, { ...base, tools: [{ type: 'code_interpreter', container: 'cntr_1' }] }]) {
    await send(RESPONSES, body);
    t.equal((await send(RESPONSES, body)).cache, null, JSON.stringify(body));
  }
  const messages = { model: 'claude-sonnet-4-5', max_tokens: 16, temperature: 0, container: 'container_1', messages: [{ role: 'user', content: 'ls' }] };
  await send('/v1/claude/v1/messages', messages);
  t.equal((await send('/v1/claude/v1/messages', messages)).cache, null, 'an Anthropic container');
  t.equal(up.seen.length, 8, 'every one reached the upstream');
});

t.test('a previous_response_id or a pinned prompt names fixed state: still cached', async (t) => {
  const { up, send } = await start(t);
  for (const extra of [{ previous_response_id: 'resp_1' }, { prompt: { id: 'pmpt_1', version: '3' } }]) {
    const body = { model: 'gpt-4o', temperature: 0, input: 'and then?', ...extra };
    const first = await send(RESPONSES, body);
    t.equal(first.cache, 'MISS');
    const again = await send(RESPONSES, body);
    t.equal(again.cache, 'HIT', JSON.stringify(extra));
    t.equal(again.text, first.text);
  }
  t.equal(up.seen.length, 2);
});
