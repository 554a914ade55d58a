/**
 * An idle gateway's metrics wake its event loop rarely: Node's event-loop lag histogram
 * samples on a timer of its own, and at prom-client's default 10 ms that timer alone woke
 * an idle gateway 100 times a second. Counted, not timed: the main thread's voluntary
 * context switches (each a sleep with nothing to do) over a second of a process that only
 * holds the gateway's metrics.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const here = path.dirname(fileURLToPath(import.meta.url));

t.test("the gateway's metrics wake an idle process a few times a second, not a hundred", async (t) => {
  const module = path.resolve(here, '../../core/gateway-metrics.ts');
  const proc = path.resolve(here, '../../bench/lib/proc.ts');
  const code = `import { GatewayMetrics } from ${JSON.stringify(module)};
import { loopWakeups } from ${JSON.stringify(proc)};
const switches = () => loopWakeups(process.pid);
const metrics = new GatewayMetrics();
await new Promise((r) => setTimeout(r, 500));
const before = switches();
await new Promise((r) => setTimeout(r, 1000));
console.log(switches() - before);
await metrics.registry.metrics();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  t.equal(r.status, 0, r.stderr);
  const wakeups = Number(r.stdout.trim());
  t.ok(wakeups >= 1, `the count is read (${wakeups})`);
  t.ok(wakeups < 50, `${wakeups} wake-ups in a second idle (a 10 ms sample gives ~100)`);
});
