/**
 * The unified endpoint on input its translators once answered with a 500 or let through:
 * `tool_calls` that is no array, a turn of 200,000 parts merged into the one before (a
 * spread push overflowed the stack), a Bedrock model id that is a dot segment (sent
 * upstream as `/model/../converse`, signed), and an upstream answer whose content is no
 * list; and a GET, which the validator refused as an empty body before the 405. Each on
 * every translated provider it applies to, with an audit line each.
 */
import path from 'node:path';
import t from 'tap';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { auditLines, waitFor } from '../filters/fixtures.js';
import { GeminiMock } from '../mocks/gemini-mock.js';
import { json, ScriptedUpstream } from './support/upstream.js';

const GEMINI_KEY = 'AIzaOddInputKey0000000000000000';
const CLAUDE = 'claude-sonnet-4-5';
const GEMINI = 'gemini-2.5-flash';
const CONVERSE = 'anthropic.claude-3-haiku-20240307-v1:0';

interface Odd extends TestGateway {
  upstream: ScriptedUpstream;
  audit(id: string): Promise<Record<string, unknown> | undefined>;
}

async function start(t: { teardown(fn: () => unknown): void }): Promise<Odd> {
  const upstream = await ScriptedUpstream.start();
  const gemini = await GeminiMock.start(GEMINI_KEY);
  t.teardown(() => Promise.all([upstream.close(), gemini.close()]));
  const gw = await startGateway(
    t,
    `server: { host: 127.0.0.1, drain_timeout_ms: 1000 }
providers:
  anthropic: { api_key: sk-ant-odd-000000000000, base_url: "${upstream.url}" }
  bedrock: { region: us-east-1, base_url: "${upstream.url}", access_key_id: AKIAODDINPUT00000001, secret_access_key: oddInputSecret/000000000000 }
  gemini: { api_key: ${GEMINI_KEY}, base_url: "${gemini.url}" }
filters:
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 10 }
  - name: validator
routes:
  - { name: team-bedrock, match: { path: /team/v1/chat/completions }, mode: unified, provider: bedrock }
`,
  );
  const file = path.join(gw.dir, 'audit.log');
  const find = (id: string): Record<string, unknown> | undefined => auditLines(file).find((l) => l.request_id === id);
  return { ...gw, upstream, audit: async (id) => ((await waitFor(() => find(id) !== undefined, 5000)) ? find(id) : undefined) };
}

let ids = 0;
async function chat(gw: Odd, body: unknown, headers: Record<string, string> = {}, route = '/v1/chat/completions'): Promise<{ status: number; text: string; id: string }> {
  const id = `odd-${ids++}`;
  const res = await fetch(gw.url + route, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id, ...headers }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text(), id };
}

t.test('tool_calls that is no array: a 400 naming it, on every translated provider', async (t) => {
  const gw = await start(t);
  for (const model of [CLAUDE, GEMINI, CONVERSE]) {
    for (const toolCalls of [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }, 'call_1', 5, true]) {
      for (const stream of [false, true]) {
        const label = `${model}, tool_calls ${JSON.stringify(toolCalls)}${stream ? ', streamed' : ''}`;
        const r = await chat(gw, { model, stream, messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, tool_calls: toolCalls }, { role: 'user', content: 'go on' }] });
        t.equal(r.status, 400, `${label}: ${r.status}`);
        t.match(JSON.parse(r.text), { error: { type: 'invalid_request_error', param: 'messages[1].tool_calls' } }, label);
        t.equal((await gw.audit(r.id))?.status, 400, `${label}: audited`);
      }
    }
  }
});

t.test('a turn of 200,000 parts merged into the one before is served', async (t) => {
  const gw = await start(t);
  const parts = Array.from({ length: 200_000 }, () => ({ type: 'text', text: 'a' }));
  for (const model of [CLAUDE, GEMINI, CONVERSE]) {
    const r = await chat(gw, { model, messages: [{ role: 'user', content: 'first' }, { role: 'user', content: parts }] });
    t.equal(r.status, 200, `${model}: ${r.status} ${r.text.slice(0, 120)}`);
    t.equal((await gw.audit(r.id))?.status, 200, `${model}: audited`);
  }
  t.same(gw.logs.filter((l) => l.level === 'error'), [], 'no error logged');
});

t.test('a Bedrock model id that is a dot segment is refused before any upstream call', async (t) => {
  const gw = await start(t);
  const cases: Array<[string, string, Record<string, string>, string, boolean]> = [
    ['X-Provider, ".."', '/v1/chat/completions', { 'x-provider': 'bedrock' }, '..', false],
    ['X-Provider, "..", streamed', '/v1/chat/completions', { 'x-provider': 'bedrock' }, '..', true],
    ['a route pinned to Bedrock, ".."', '/team/v1/chat/completions', {}, '..', false],
    ['a route pinned to Bedrock, "."', '/team/v1/chat/completions', {}, '.', false],
  ];
  for (const [label, route, headers, model, stream] of cases) {
    const before = gw.upstream.seen.length;
    const r = await chat(gw, { model, stream, messages: [{ role: 'user', content: 'hi' }] }, headers, route);
    t.equal(gw.upstream.seen.length, before, `${label}: nothing sent upstream`);
    t.equal(r.status, 400, `${label}: ${r.status}`);
    t.match(JSON.parse(r.text), { error: { param: 'model' } });
    t.equal((await gw.audit(r.id))?.status, 400, `${label}: audited`);
  }
  const ok = await chat(gw, { model: 'x.y', messages: [{ role: 'user', content: 'hi' }] }, {}, '/team/v1/chat/completions');
  t.match(gw.upstream.seen.at(-1)?.url, /^\/model\/x\.y\/converse$/, `a model id with dots in it still goes (${ok.status})`);
});

t.test("an upstream answer whose content is no list is the upstream's 502, not a 500", async (t) => {
  const gw = await start(t);
  const message = { id: 'msg_1', type: 'message', role: 'assistant', model: CLAUDE, stop_reason: 'end_turn', usage: { input_tokens: 10, output_tokens: 5 } };
  const converse = (content: unknown): unknown => ({ output: { message: { role: 'assistant', content } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } });
  const cases: Array<[string, string, unknown]> = [
    ['Anthropic, content {}', CLAUDE, { ...message, content: {} }],
    ['Anthropic, content [null]', CLAUDE, { ...message, content: [null] }],
    ['Converse, content {}', CONVERSE, converse({})],
    ['Converse, content [null]', CONVERSE, converse([null])],
  ];
  for (const [label, model, answer] of cases) {
    gw.upstream.script.push((_req, res) => json(res, 200, answer));
    const r = await chat(gw, { model, messages: [{ role: 'user', content: 'hi' }] });
    t.equal(r.status, 502, `${label}: ${r.status}`);
    t.match(r.text, /GW_ERR_UPSTREAM_PROTOCOL/, label);
    t.equal((await gw.audit(r.id))?.error_kind, 'upstream_error', `${label}: audited as the upstream's`);
  }
});

t.test('a GET of the chat endpoint is a 405, with the validator on', async (t) => {
  const gw = await start(t);
  const res = await fetch(`${gw.url}/v1/chat/completions`, { headers: { 'x-request-id': 'odd-get' } });
  t.equal(res.status, 405);
  t.match(await res.json(), { error: { message: /Use POST/ } });
  t.equal((await gw.audit('odd-get'))?.status, 405, 'audited');
});
