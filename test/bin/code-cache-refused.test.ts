/**
 * V8 refuses the build's code caches when Node runs with V8 flags the build did not (a heap
 * size in NODE_OPTIONS, the common case): the gateway still starts, and says so once.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../helpers/ports.js';
import { startCli } from '../helpers/process.js';

const NOTE = "V8 refused the build's code caches";

async function startWith(nodeOptions: string): Promise<string> {
  const gw = await startCli([], { AI_GATEWAY_CONFIG: '', AI_GATEWAY_PORT: String(await freePort()), NODE_OPTIONS: nodeOptions });
  await sleep(300); // the note follows the listening line
  gw.child.kill('SIGTERM');
  await gw.exited;
  return gw.stderr();
}

t.test('a heap size in NODE_OPTIONS: started, and the refused caches noted once', async (t) => {
  const stderr = await startWith('--max-old-space-size=4096');
  const notes = stderr.split('\n').filter((l) => l.includes(NOTE));
  t.equal(notes.length, 1, stderr);
  const line = JSON.parse(notes[0]!) as { level: string; files: number; hint: string };
  t.equal(line.level, 'info');
  t.ok(line.files >= 2, `the app bundle and the vendor bundles (${line.files})`);
  t.match(line.hint, 'NODE_OPTIONS');
});

t.test('without V8 flags the caches are used: no note', async (t) => {
  const stderr = await startWith('');
  t.match(stderr, 'gateway listening');
  t.notMatch(stderr, NOTE);
});
