import path from 'node:path';
import t from 'tap';
import { lastToolCallFingerprint, pickedToolCallFingerprint, TOOL_CALL_READS } from '../../../filters/guardrails/tool-calls.js';
import type { JsonReads } from '../../../core/index.js';
import { contextWithBody } from '../../helpers/context.js';
import { startGateway } from '../../helpers/gateway.js';
import { auditLines, config, messages, post, waitFor } from '../fixtures.js';

/** An Anthropic agent turn: the assistant's last tool call and its result. */
function anthropicTurn(input: Record<string, unknown>, id: string, extra: Record<string, unknown> = {}) {
  return messages({
    ...extra,
    messages: [
      { role: 'user', content: 'Fix the failing test' },
      { role: 'assistant', content: [{ type: 'text', text: 'Running it.' }, { type: 'tool_use', id, name: 'Bash', input }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'FAIL' }] },
    ],
  });
}

t.test('tool-call fingerprints: same name and arguments match whatever the ids and key order', async (t) => {
  const a = lastToolCallFingerprint(JSON.parse(anthropicTurn({ command: 'npm test', timeout: 60 }, 'toolu_1')));
  t.ok(a);
  t.equal(lastToolCallFingerprint(JSON.parse(anthropicTurn({ timeout: 60, command: 'npm test' }, 'toolu_2'))), a, 'ids and key order do not matter');
  t.not(lastToolCallFingerprint(JSON.parse(anthropicTurn({ command: 'npm run lint', timeout: 60 }, 'toolu_3'))), a, 'other arguments differ');
  const openai = (args: string) => ({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: null, tool_calls: [{ id: `call_${args.length}`, type: 'function', function: { name: 'Bash', arguments: args } }] }, { role: 'tool', tool_call_id: 'c', content: 'FAIL' }] });
  const o = lastToolCallFingerprint(openai('{"command":"npm test"}'));
  t.ok(o);
  t.equal(lastToolCallFingerprint(openai('{ "command" : "npm test" }')), o, 'OpenAI arguments compared as JSON, not text');
  t.equal(lastToolCallFingerprint(JSON.parse(anthropicTurn({ command: 'npm test' }, 'toolu_4'))), o, 'one call, one fingerprint, whatever the dialect');
  const legacy = { messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: null, function_call: { name: 'Bash', arguments: '{ "command": "npm test" }' } }, { role: 'function', name: 'Bash', content: 'FAIL' }] };
  t.equal(lastToolCallFingerprint(legacy), o, 'a legacy chat function_call');
  const call = (id: string, args: string) => ({ type: 'function_call', id: `fc_${id}`, call_id: id, name: 'Bash', arguments: args });
  const output = (id: string) => ({ type: 'function_call_output', call_id: id, output: 'FAIL' });
  t.equal(lastToolCallFingerprint({ input: [{ role: 'user', content: 'x' }, { type: 'reasoning', summary: [] }, call('c1', '{"command":"npm test"}'), output('c1')] }), o, 'a Responses API function_call item');
  const parallel = { messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }, { id: 'b', type: 'function', function: { name: 'Bash', arguments: '{"command":"npm test"}' } }] }] };
  const earlier = [call('c0', '{"command":"pwd"}'), output('c0')];
  t.equal(lastToolCallFingerprint({ input: [...earlier, call('c1', '{"command":"ls"}'), call('c2', '{"command":"npm test"}'), output('c1'), output('c2')] }), lastToolCallFingerprint(parallel), 'parallel Responses calls: the run of function_call items before their outputs');
  t.equal(lastToolCallFingerprint({ input: [...earlier, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'done' }] }, { role: 'user', content: 'thanks' }] }), undefined, 'a Responses conversation whose last assistant turn made no call');
  // Codex: free-form tools (apply_patch) and the built-in shell are items of their own types.
  const patch = (id: string, text: string) => ({ type: 'custom_tool_call', id: `ctc_${id}`, call_id: id, name: 'apply_patch', input: text });
  const shell = (id: string, command: string[]) => ({ type: 'local_shell_call', id: `lsh_${id}`, call_id: id, status: 'completed', action: { type: 'exec', command, timeout_ms: 10_000 } });
  const codex = (item: Record<string, unknown>) => ({ input: [{ role: 'user', content: 'fix it' }, item, { type: `${item.type}_output`, call_id: item.call_id, output: 'FAIL' }] });
  const patched = lastToolCallFingerprint(codex(patch('c1', '*** Begin Patch\n+x\n*** End Patch')));
  t.ok(patched, 'a custom_tool_call item');
  t.equal(lastToolCallFingerprint(codex(patch('c2', '*** Begin Patch\n+x\n*** End Patch'))), patched, 'the same patch under another id');
  t.not(lastToolCallFingerprint(codex(patch('c3', '*** Begin Patch\n+y\n*** End Patch'))), patched, 'another patch');
  const shelled = lastToolCallFingerprint(codex(shell('c1', ['npm', 'test'])));
  t.ok(shelled, 'a local_shell_call item');
  t.equal(lastToolCallFingerprint(codex(shell('c2', ['npm', 'test']))), shelled, 'the same command under another id');
  t.not(lastToolCallFingerprint(codex(shell('c3', ['npm', 'run', 'lint']))), shelled, 'another command');
  t.equal(lastToolCallFingerprint({ input: [shell('c1', ['ls']), patch('c2', 'p'), { type: 'local_shell_call_output', call_id: 'c1', output: '' }] }), lastToolCallFingerprint({ input: [shell('c9', ['ls']), patch('c8', 'p')] }), 'a run of mixed call items is one turn');
  t.equal(lastToolCallFingerprint({ input: 'hello' }), undefined, 'Responses input as a string');
  t.equal(lastToolCallFingerprint({ messages: [{ role: 'user', content: 'hi' }] }), undefined, 'no assistant turn');
  t.equal(lastToolCallFingerprint({ messages: [{ role: 'assistant', content: 'plain' }, { role: 'user', content: 'go on' }] }), undefined, 'a last assistant turn without tools');
});

t.test('tool-call fingerprints from the calls alone (ctx.jsonPick) are those of the whole body', async (t) => {
  const inputs: Array<Record<string, unknown>> = [
    { command: 'npm test' },
    { path: 'src/café.ts', edits: [{ old: 'é → “x”', new: '😀\n' }] },
    { 'clé': 'valeur', nested: { deep: [1, 2.5, null, true, 'ß'] } },
  ];
  const pad = 'x\n“é”'.repeat(2000); // large enough for the pick to read the tape
  let checked = 0;
  for (const input of inputs) {
    for (const escape of [false, true]) {
      const tools = anthropicTurn(input, 'toolu_1', { system: pad });
      // A Python client writes every character outside ASCII as a \u escape.
      const body = escape ? tools.replace(/[^\x00-\x7f]/gu, (c) => Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')) : tools;
      const ctx = contextWithBody(Buffer.from(body));
      const picked = lastToolCallFingerprint(ctx.jsonPick(TOOL_CALL_READS), true);
      t.equal(picked, lastToolCallFingerprint(JSON.parse(body)), `${JSON.stringify(input)}${escape ? ', escaped' : ''}`);
      checked++;
    }
  }
  const gemini = { contents: [{ role: 'model', parts: [{ functionCall: { name: 'ls', args: { dir: 'é' } } }] }], pad };
  t.equal(lastToolCallFingerprint(contextWithBody(Buffer.from(JSON.stringify(gemini))).jsonPick(TOOL_CALL_READS), true), lastToolCallFingerprint(gemini), 'Gemini parts');
  const openai = { messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls é"}' } }] }], pad };
  t.equal(lastToolCallFingerprint(contextWithBody(Buffer.from(JSON.stringify(openai))).jsonPick(TOOL_CALL_READS), true), lastToolCallFingerprint(openai), 'OpenAI arguments');
  t.equal(checked, 6);
  // A long session: the last turns are read first, every turn only when none is the assistant's.
  const pair = (n: number) => [
    { role: 'assistant', content: [{ type: 'text', text: `step ${n} é` }, { type: 'tool_use', id: `toolu_${n}`, name: 'Read', input: { path: `src/f${n}.ts`, 'clé': [n, 'ß'] } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${n}`, content: pad.slice(0, 200) }] },
  ];
  const openaiTools = (n: number) => Array.from({ length: n }, (_, i) => ({ role: 'tool', tool_call_id: `c${i}`, content: `result ${i}` }));
  const sessions: Array<[name: string, body: Record<string, unknown>, picks: number]> = [
    ['the last call among 40 turns', { model: 'm', messages: [{ role: 'user', content: 'go' }, ...Array.from({ length: 20 }, (_, n) => pair(n)).flat()] }, 1],
    ['OpenAI: 12 parallel results after the call', { messages: [{ role: 'user', content: pad }, { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls é"}' } }] }, ...openaiTools(12)] }, 2],
    ['no assistant turn in 10', { messages: [{ role: 'user', content: pad }, ...openaiTools(9)] }, 2],
    ['the last assistant turn without calls', { messages: [...pair(1), { role: 'assistant', content: 'done' }, { role: 'user', content: pad }] }, 1],
    ['Responses: the last call among 30 items', { model: 'm', input: [{ role: 'user', content: pad }, ...Array.from({ length: 15 }, (_, n) => [{ type: 'function_call', call_id: `c${n}`, name: 'Read', arguments: `{"path":"src/f${n}.ts","clé":"ß"}` }, { type: 'function_call_output', call_id: `c${n}`, output: pad.slice(0, 200) }]).flat()] }, 1],
    ['Responses: 6 parallel calls, then their outputs', { input: [{ role: 'user', content: pad }, ...Array.from({ length: 6 }, (_, n) => ({ type: 'function_call', call_id: `c${n}`, name: 'Read', arguments: `{"path":"é${n}"}` })), ...Array.from({ length: 6 }, (_, n) => ({ type: 'function_call_output', call_id: `c${n}`, output: 'x' }))] }, 2],
    ['Responses: an assistant message last', { input: [{ type: 'function_call', call_id: 'c', name: 'ls', arguments: '{}' }, { type: 'function_call_output', call_id: 'c', output: pad }, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'done é' }] }] }, 1],
    ['Responses: Codex shell and patch calls among 24 items', { input: [{ role: 'user', content: pad }, ...Array.from({ length: 6 }, (_, n) => [{ type: 'local_shell_call', call_id: `s${n}`, action: { type: 'exec', command: ['cat', `f${n}é`] } }, { type: 'local_shell_call_output', call_id: `s${n}`, output: 'x' }, { type: 'custom_tool_call', call_id: `p${n}`, name: 'apply_patch', input: `+é${n}` }, { type: 'custom_tool_call_output', call_id: `p${n}`, output: 'ok' }]).flat()] }, 1],
    ['legacy function_call', { messages: [{ role: 'user', content: pad }, { role: 'assistant', content: null, function_call: { name: 'Bash', arguments: '{"command":"ls é"}' } }, { role: 'function', name: 'Bash', content: 'x' }] }, 1],
    ['Gemini', { contents: [{ role: 'user', parts: [{ text: pad }] }, ...Array.from({ length: 12 }, (_, n) => [{ role: 'model', parts: [{ functionCall: { name: 'ls', args: { n } } }] }, { role: 'user', parts: [{ functionResponse: { name: 'ls', response: {} } }] }]).flat()] }, 1],
  ];
  for (const [name, body, picks] of sessions) {
    const ctx = contextWithBody(Buffer.from(JSON.stringify(body)));
    let made = 0;
    const print = pickedToolCallFingerprint({ jsonPick: (reads: JsonReads) => (made++, ctx.jsonPick(reads)) });
    t.equal(print, lastToolCallFingerprint(body), `${name}: the whole body's fingerprint`);
    t.equal(print !== undefined, !/no assistant|without calls|assistant message last/.test(name), `${name}: ${print ? 'a call' : 'no call'} found`);
    t.equal(made, picks, `${name}: ${picks === 1 ? 'the last turns read alone' : 'every turn read'}`);
  }

  // A tool input nested deeper than the stack: JSON.parse takes it, so the pick must too.
  const deepInput = `${'{"a":'.repeat(20_000)}"é"${'}'.repeat(20_000)}`;
  const deep = anthropicTurn({ placeholder: true }, 'toolu_1', { system: pad }).replace('{"placeholder":true}', deepInput);
  const deepPrint = lastToolCallFingerprint(JSON.parse(deep));
  t.ok(deepPrint);
  t.equal(lastToolCallFingerprint(contextWithBody(Buffer.from(deep)).jsonPick(TOOL_CALL_READS), true), deepPrint, 'a tool input 20,000 levels deep');
});

t.test('the loop breaker: the same tool call more than N times trips the session, which is refused non-retryably', async (t) => {
  const gw = await startGateway(t, config(`  - name: auth
  - name: cost
  - name: guardrails
    config:
      loop: { repeats: 3, window_seconds: 60 }
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 20 }
`));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const session = (id: string) => ({ 'x-workspace-id': 'ws-abc123', 'x-claude-code-session-id': id });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await post(url, session('loopy'), anthropicTurn({ command: 'npm test' }, `toolu_${i}`))).status);
  t.same(statuses, [200, 200, 200], 'up to N repeats pass');
  const tripped = await post(url, session('loopy'), anthropicTurn({ command: 'npm test' }, 'toolu_9'));
  t.equal(tripped.status, 403);
  t.equal(tripped.headers.get('x-should-retry'), 'false');
  t.match(JSON.parse(tripped.text), { type: 'error', error: { type: 'permission_error', message: /repeated the same tool call more than 3 times/ } });
  t.equal((await post(url, session('loopy'), anthropicTurn({ command: 'ls' }, 'toolu_10'))).status, 403, 'the whole session is paused, not only that call');
  t.equal((await post(url, session('other'), anthropicTurn({ command: 'npm test' }, 'toolu_1'))).status, 200, 'other sessions are unaffected');
  const varied = [];
  for (let i = 0; i < 6; i++) varied.push((await post(url, session('varied'), anthropicTurn({ command: `step ${i}` }, `toolu_${i}`))).status);
  t.same(varied, [200, 200, 200, 200, 200, 200], 'a session making progress (different calls) is never tripped');
  const noSession = [];
  for (let i = 0; i < 5; i++) noSession.push((await post(url, { 'x-workspace-id': 'ws-abc123' }, anthropicTurn({ command: 'npm test' }, `t${i}`))).status);
  t.ok(noSession.every((s) => s === 200), 'requests without a session are not judged');

  const file = path.join(gw.dir, 'audit.log');
  t.ok(await waitFor(() => auditLines(file).length === 17));
  t.equal(auditLines(file).filter((l) => l.error === 'GW_ERR_SESSION_LOOP' && l.session === 'loopy').length, 2, 'refusals are audited with their session');
  t.equal(gw.logs.filter((l) => l.msg === 'agent session refused by guardrail').length, 2, 'and logged');
  t.match(await (await fetch(`${gw.url}/metrics`)).text(), /gateway_guardrail_refusals_total\{reason="loop"\} 2\n/, 'and counted');

  // A tool input nested deeper than the stack, in a turn large enough to be picked.
  const deepInput = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
  const deep = (id: string) => anthropicTurn({ placeholder: true }, id, { system: 'p'.repeat(4000) }).replace('{"placeholder":true}', deepInput);
  const deepStatuses = [];
  for (let i = 0; i < 4; i++) deepStatuses.push((await post(url, session('deep'), deep(`toolu_${i}`))).status);
  t.same(deepStatuses, [200, 200, 200, 403], 'a call nested 20,000 levels deep is judged like any other');
});

t.test('a per-session token ceiling', async (t) => {
  const gw = await startGateway(t, config(`  - name: auth
  - name: cost
  - name: guardrails
    config:
      max_session_tokens: 40
      max_session_cost_usd: 1
`, `pricing:
  providers:
    echo: { models: { "echo-1": { input: 3, output: 15 } } }
`));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const h = { 'x-workspace-id': 'ws-abc123', 'x-claude-code-session-id': 'tokens' };
  const body = messages({ messages: [{ role: 'user', content: 'x'.repeat(40) }] }); // 10 in + 10 out
  t.equal((await post(url, h, body)).status, 200);
  t.equal((await post(url, h, body)).status, 200);
  const over = await post(url, h, body);
  t.equal(over.status, 403, '40 tokens used: the session is done');
  t.match(JSON.parse(over.text), { error: { type: 'permission_error', message: /used its 40 tokens/ } }, 'a quota error in Anthropic terms');
  t.equal((await post(url, { ...h, 'x-claude-code-session-id': 'fresh' }, body)).status, 200, 'a new session starts from zero');
});
