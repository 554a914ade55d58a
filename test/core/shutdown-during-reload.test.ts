/**
 * A shutdown that comes while a reload builds its pipeline: the drain starts at once (new
 * connections refused, the deadline running) instead of waiting for the build, which a
 * plugin's create() can make as long as it likes; the pipeline built meanwhile is retired,
 * not swapped in.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/live.js';

const slowCreate = JSON.stringify(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plugins/slow-create.js'));
const config = (delayMs: number): string => `server:\n  drain_timeout_ms: 5000\nproviders:\n  echo: {}\nfilters:\n  - name: slow\n    plugin: ${slowCreate}\n    config: { delay_ms: ${delayMs} }\n`;
const BUILD_MS = 2500;

function connects(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(Number(new URL(url).port), '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

t.test('a shutdown during a slow reload drains at once and retires the pipeline built meanwhile', async (t) => {
  const gw = await startGateway(t, config(0));
  const generation = gw.gateway.current.generation;
  writeFileSync(gw.configPath, config(BUILD_MS)); // the new pipeline's filter takes 2.5 s to create
  const reloaded = gw.gateway.reload();
  await sleep(100);

  const started = performance.now();
  const closing = gw.gateway.close();
  await sleep(50);
  t.notOk(await connects(gw.url), 'new connections are refused at once');
  const closed = await Promise.race([closing.then(() => true), sleep(1500).then(() => false)]);
  t.ok(closed, `closed ${Math.round(performance.now() - started)} ms after close(), the build taking ${BUILD_MS} ms`);

  t.match(await reloaded, { ok: true, changed: false }, 'the reload gives way to the shutdown');
  t.equal(gw.gateway.current.generation, generation, 'the serving pipeline was not replaced');
  t.ok(await waitFor(() => gw.logs.some((l) => l.msg === 'reload abandoned: the gateway is shutting down'), 1000, 10), 'and the new one was retired');
});
