/**
 * An attempt's phase timer (headers, idle) does not blame the gateway's own pause on the
 * upstream: when the process was busy past the timer while the upstream's bytes arrived,
 * the bytes already waiting are read before the timer may expire. (Timers run before the
 * I/O of an event-loop turn; on a loaded machine the proof suite's 64 MiB pass-through was
 * cut as an idle timeout this way.)
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { AttemptTimer, Deadline } from '../../../core/resilience/timeouts.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the process is stalled: a long GC, a starved CPU
  }
}

t.test('bytes that arrived while the process was stalled past the idle timer keep the attempt alive', async (t) => {
  const timer = new AttemptTimer(new AbortController().signal, new Deadline(0), 30);
  t.teardown(() => timer.dispose());
  const server = net.createServer((socket) => socket.on('data', () => timer.disarm()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  await sleep(20); // the server has its socket
  t.teardown(() => (client.destroy(), server.close()));

  timer.arm('idle', 30);
  client.write('chunk'); // in the kernel now, read on the next turn's I/O
  busy(150);
  await sleep(100);
  t.equal(timer.expired, undefined, 'the waiting bytes answered the timer');

  timer.arm('idle', 30);
  await sleep(150);
  t.equal(timer.expired?.code, 'GW_ERR_UPSTREAM_IDLE_TIMEOUT', 'real silence still expires');
});
