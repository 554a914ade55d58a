/**
 * The loop breaker parses OpenAI-style tool-call `arguments` (JSON in a string) to
 * fingerprint them. A body of many dense argument strings, each too small to be refused
 * alone and invisible to the body's own density check (they are strings there), must not
 * have JSON.parse build more containers than one per-request ContainerBudget allows
 * (core/json-density.ts): past it, arguments are fingerprinted as written, as unparsable
 * ones are, so the request is still judged and a loop re-sending them still trips.
 */
import t from 'tap';
import { argumentsBudget, lastToolCallFingerprint, pickedToolCallFingerprint } from '../../../filters/guardrails/tool-calls.js';
import { ContainerBudget } from '../../../core/json-density.js';
import { contextWithBody } from '../../helpers/context.js';
import { startGateway } from '../../helpers/gateway.js';
import { config, post } from '../fixtures.js';

const CALLS = 40;
/** `[[],[],…]` of about 10 kB: some 3,300 arrays apiece, 133,000 in all, past the 65,536 a 400 kB body is allowed. */
const dense = (n: number) => `[${'[],'.repeat(3333)}[${n}]]`;

/** A chat conversation whose last assistant turn makes CALLS parallel calls with dense arguments. */
function body(spaced = false): string {
  const calls = Array.from({ length: CALLS }, (_, i) => ({ id: `call_${i}`, type: 'function', function: { name: 'Plot', arguments: spaced ? dense(i).replaceAll(',', ', ') : dense(i) } }));
  return JSON.stringify({
    model: 'echo-1',
    max_tokens: 16,
    messages: [{ role: 'user', content: 'plot it' }, { role: 'assistant', content: null, tool_calls: calls }, ...calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: 'ok' }))],
  });
}

/** Runs `fn` with JSON.parse counting the arrays it builds from the dense arguments. */
async function parsedArrays<T>(fn: () => T | Promise<T>): Promise<{ value: T; arrays: number }> {
  const original = JSON.parse;
  let arrays = 0;
  JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    if (typeof text === 'string' && text.startsWith('[[],')) arrays += text.split('[').length - 1;
    return original(text, reviver);
  }) as typeof JSON.parse;
  try {
    return { value: await fn(), arrays };
  } finally {
    JSON.parse = original;
  }
}

t.test('dense arguments are parsed only within the request budget, then fingerprinted as written', async (t) => {
  const text = body();
  t.ok(text.length > 256 * 1024, 'a body large enough to be counted');
  const budget = argumentsBudget(text.length);
  t.ok(budget instanceof ContainerBudget, 'a large body gets a budget');
  const allowed = budget!.allowed;
  const { value: print, arrays } = await parsedArrays(() => pickedToolCallFingerprint(contextWithBody(Buffer.from(text)), budget));
  t.ok(print, 'the turn still has a fingerprint');
  t.ok(arrays <= allowed, `JSON.parse built ${arrays} arrays, at most the ${allowed} the body allows`);
  t.ok(arrays > 0, 'arguments within the budget are still parsed');

  t.equal(pickedToolCallFingerprint(contextWithBody(Buffer.from(text)), argumentsBudget(text.length)), print, 'the same calls re-sent: the same fingerprint (a loop still trips)');
  t.not(pickedToolCallFingerprint(contextWithBody(Buffer.from(body(true))), argumentsBudget(body(true).length)), print, 'past the budget, arguments count as written (whitespace too), as unparsable ones do');

  const small = JSON.parse(text) as { messages: Array<Record<string, unknown>> };
  t.equal(argumentsBudget(2048), undefined, 'a small body pays for no budget');
  t.equal(lastToolCallFingerprint(small, false, undefined), lastToolCallFingerprint(JSON.parse(body(true))), 'without a budget every argument is parsed, as before');
});

t.test('through the gateway: the guardrail parses no more than the budget, and still breaks the loop', async (t) => {
  const gw = await startGateway(t, config(`  - name: auth
  - name: guardrails
    config:
      loop: { repeats: 2, window_seconds: 60 }
`));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const headers = { 'x-workspace-id': 'ws-abc123', 'x-claude-code-session-id': 'dense' };
  const text = body();
  const allowed = new ContainerBudget(text.length).allowed;
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { value: status, arrays } = await parsedArrays(async () => (await post(url, headers, text)).status);
    statuses.push(status);
    t.ok(arrays <= allowed, `request ${i + 1}: ${arrays} arrays parsed, at most ${allowed}`);
  }
  t.same(statuses, [200, 200, 403], 'the repeated dense call trips the loop breaker');
});
