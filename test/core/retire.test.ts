/**
 * State across reloads: a retired pipeline's filters are closed once its last request
 * ends (not before), and runtime-owned shared state and upstream pools are the same
 * objects in every generation.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { messages, waitFor } from '../helpers/live.js';
import { closed, created } from '../fixtures/recording-filter.js';

const plugin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'recording-filter.ts');

function config(tag: string, delayMs = 30): string {
  return `server:\n  host: 127.0.0.1\nproviders:\n  echo:\n    stream_delay_ms: ${delayMs}\nfilters:\n  - name: recording\n    plugin: ${JSON.stringify(plugin)}\n    config: { tag: ${tag} }\n`;
}

t.test('retired filters are closed once the old pipeline drains', async (t) => {
  // 10 s between the events of gen-1's stream: it is still in flight whatever a loaded
  // machine makes the reload take, and ends when the test cancels it.
  const g = await startGateway(t, config('gen-1', 10_000));
  const res = await fetch(`${g.url}/v1/echo/v1/messages`, { method: 'POST', body: messages('one two three four five six seven eight nine ten eleven twelve', true) });
  t.equal(res.headers.get('x-filter-tag'), 'gen-1');
  const reader = res.body!.getReader();
  await reader.read();

  const reloaded = await g.gateway.reload(); // what the watcher and SIGHUP call
  t.same(reloaded, { ok: true, changed: false, generation: 1 }, 'an unchanged file is not rebuilt');
  writeFileSync(g.configPath, config('gen-2'));
  await waitFor(() => g.gateway.current.generation === 2);
  const after = await fetch(`${g.url}/v1/echo/v1/messages`, { method: 'POST', body: messages('hi') });
  t.equal(after.headers.get('x-filter-tag'), 'gen-2', 'new requests run the new filter instance');
  t.notOk(closed.includes('gen-1'), 'the old filter is not closed while its stream is in flight');

  await reader.cancel();
  await waitFor(() => closed.includes('gen-1'));
  t.pass('the old filter was closed after its last request ended (the client left)');
  t.notOk(closed.includes('gen-2'), 'the serving filter stays open');
  await g.gateway.close();
  t.ok(closed.includes('gen-2'), 'shutdown closes the serving filter too');
});

t.test('shared state and upstream pools outlive a pipeline', async (t) => {
  const g = await startGateway(t, config('s-1'));
  writeFileSync(g.configPath, config('s-2'));
  await waitFor(() => g.gateway.current.generation === 2);
  const first = created.find((c) => c.tag === 's-1')!;
  const second = created.find((c) => c.tag === 's-2')!;
  t.equal(second.counter, first.counter, 'env.shared hands the next generation the same object');
  t.ok(second.counter.instances >= 2, 'with the state the first generation left in it');
  t.equal(second.pool, first.pool, 'env.upstream hands out the same keep-alive pool');
});
