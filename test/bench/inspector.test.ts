// The bench's heap after the run: a proxy started with INSPECT_ON_SIGNAL opens its inspector
// only on SIGUSR1, and the reading comes after a full GC (what is retained, not garbage).
import t from 'tap';
import { INSPECT_ON_SIGNAL, liveMemoryNow } from '../../bench/lib/inspector.js';
import { spawnPinned } from '../../bench/lib/proc.js';

// Keeps ~16 MiB of numbers reachable, then leaves ~48 MiB of 1 MiB arrays as garbage (large
// objects, which only a full GC frees); prints its heap in use, garbage included, and waits.
const CHILD = [
  'globalThis.kept = Array.from({ length: 2_000_000 }, (_, i) => i + 0.5);',
  'for (let i = 0; i < 48; i++) globalThis.garbage = new Array(131072).fill(i + 0.5);',
  'globalThis.garbage = null;',
  'setInterval(() => {}, 1000);',
  "process.stdout.write(`${process.memoryUsage().heapUsed}\\n`);",
].join(' ');

t.test('liveMemoryNow opens the inspector on SIGUSR1 and reads the heap after a full GC', async (t) => {
  const child = spawnPinned(undefined, [INSPECT_ON_SIGNAL, '-e', CHILD]);
  t.teardown(() => child.stop());
  const inUse = await new Promise<number>((resolve) => child.child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d)))));
  t.notMatch(child.stderr(), /Debugger listening/, 'no inspector before the signal');

  const memory = await liveMemoryNow(child);
  const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
  t.match(child.stderr(), /Debugger listening on ws:\/\/127\.0\.0\.1:\d+\//, 'the inspector opened on loopback, on a port of its own');
  // 2,000,000 heap numbers: 8 bytes each in a double array, at least ~15 MiB however V8 lays it out.
  t.ok(memory.heap > 15 * 1048576, `heap ${mib(memory.heap)} holds the kept array`);
  // Scavenges and V8's own marking may free some of the garbage first: 36–45 MiB in use here, ~20 after.
  t.ok(memory.heap < inUse - 8 * 1048576, `heap ${mib(memory.heap)} after the GC, ${mib(inUse)} in use before it: the garbage went`);
});

t.test('liveMemoryNow gives up on a process that never opens an inspector', async (t) => {
  // A process that ignores SIGUSR1 (a disposition exec keeps) stands for a Node built without an inspector.
  const child = spawnPinned(undefined, ['-c', 'trap "" USR1; echo ready; exec sleep 30'], {}, '/bin/bash');
  t.teardown(() => child.stop());
  await new Promise<void>((resolve) => child.child.stdout!.once('data', () => resolve()));
  await t.rejects(liveMemoryNow(child, 500), /no inspector reading from \d+ within 500 ms/);
  t.same([child.child.exitCode, child.child.signalCode], [null, null], 'the process is still running: it was not signalled to death');
});
