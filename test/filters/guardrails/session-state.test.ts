/**
 * A session's guardrail state is a fixed set of cells: the loop breaker counts the same
 * call in a row (any other call starts the count again), so an agent making progress is
 * never paused and a long session holds no more state than a short one — on the memory
 * store and on a real redis-server.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import type { Gateway } from '../../../core/index.js';
import { startGateway } from '../../helpers/gateway.js';
import { config, post } from '../fixtures.js';
import { KEY_PREFIX, redisGateway } from './setup.js';

const guardrails = (loop: string) => `  - name: auth
  - name: cost
  - name: guardrails
    config:
      loop: ${loop}
`;

/** An Anthropic agent turn ending on one tool call and its result. */
function turn(id: string, name: string, input: Record<string, unknown>): string {
  return JSON.stringify({
    model: 'echo-1', max_tokens: 8,
    messages: [
      { role: 'user', content: 'make the tests pass' },
      { role: 'assistant', content: [{ type: 'tool_use', id, name, input }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'ok' }] },
    ],
  });
}

const edit = (i: number) => turn(`e${i}`, 'Edit', { file: 'src/a.ts', old: `v${i}`, new: `v${i + 1}` });
const npmTest = (i: number) => turn(`b${i}`, 'Bash', { command: 'npm test' });

async function statuses(url: string, session: string, bodies: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  for (const body of bodies) out.push((await post(url, { 'x-workspace-id': 'ws-abc123', 'x-claude-code-session-id': session }, body)).status);
  return out;
}

/** Edit, test, edit, test …, then the test alone three times: what both stores must answer alike. */
async function editTestLoop(t: Test, url: string): Promise<void> {
  const progress = await statuses(url, 'tdd', Array.from({ length: 8 }, (_, i) => [edit(i), npmTest(i)]).flat());
  t.ok(progress.every((s) => s === 200), `edit, test, edit, test … (8 of each) is never tripped: ${progress.join(' ')}`);
  t.same(await statuses(url, 'tdd', [npmTest(8), npmTest(9), npmTest(10)]), [200, 200, 403], 'the test run 4 times in a row trips it (repeats: 3)');
}

/**
 * Cells held by the gateway's memory store, over every group. The store keeps its groups
 * private; a test that counts them reaches in.
 */
function memoryCells(gateway: Gateway): number {
  const shared = (gateway as unknown as { shared: { values(): Iterable<unknown> } }).shared;
  let n = 0;
  for (const item of shared.values()) {
    const store = item as { type?: string; groups?: { cache: { values(): Iterable<Record<string, unknown>> } } };
    if (store?.type !== 'memory' || !store.groups) continue;
    for (const group of store.groups.cache.values()) n += Object.keys(group).length;
  }
  return n;
}

t.test('memory store: the loop breaker counts the same call in a row', async (t) => {
  const gw = await startGateway(t, config(guardrails('{ repeats: 3, window_seconds: 600 }')));
  await editTestLoop(t, `${gw.url}/v1/echo/v1/messages`);
});

t.test('memory store: a session of distinct calls holds a fixed set of cells', async (t) => {
  const gw = await startGateway(t, config(guardrails('{ repeats: 5, window_seconds: 600 }')));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const codes = await statuses(url, 'long', Array.from({ length: 300 }, (_, i) => turn(`t${i}`, 'Read', { path: `src/file-${i}.ts` })));
  t.ok(codes.every((s) => s === 200));
  const cells = memoryCells(gw.gateway);
  t.ok(cells > 0, 'found the memory store');
  t.ok(cells <= 6, `300 distinct calls leave ${cells} cells (trip, tokens, cost, burn, last call, repeats)`);
});

t.test('redis store: the same answers, and a session holds a fixed set of keys', async (t) => {
  const { gw, redis } = await redisGateway(t, guardrails('{ repeats: 3, window_seconds: 1 }'));
  const url = `${gw.url}/v1/echo/v1/messages`;
  await editTestLoop(t, url);

  t.same(await statuses(url, 'slow', [npmTest(0), npmTest(1), npmTest(2)]), [200, 200, 200]);
  await sleep(1100);
  t.same(await statuses(url, 'slow', [npmTest(3), npmTest(4), npmTest(5), npmTest(6)]), [200, 200, 200, 403], 'more than window_seconds after the previous, the count starts again');

  const codes = await statuses(url, 'long', Array.from({ length: 50 }, (_, i) => turn(`t${i}`, 'Read', { path: `src/file-${i}.ts` })));
  t.ok(codes.every((s) => s === 200));
  const keys = (await redis.command('KEYS', `${KEY_PREFIX}{gr:long}*`)).split('\r\n').filter((l) => l.startsWith(KEY_PREFIX));
  t.ok(keys.length > 0 && keys.length <= 6, `50 distinct calls leave ${keys.length} keys: ${keys.slice(0, 8).join(' ')}`);
});
